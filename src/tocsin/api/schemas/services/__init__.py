"""Request and response bodies of services and integrations."""
