"""One router per resource. Routers are thin: they call one action and return a schema."""
