"""What alerts are routed to: services, their integrations (keys, signing secrets, routing
rules) and maintenance windows."""
