"""Pages for services, their integrations and maintenance windows."""
