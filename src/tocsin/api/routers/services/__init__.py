"""Services and their integrations."""
