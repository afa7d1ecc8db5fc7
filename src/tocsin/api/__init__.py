"""The HTTP edge: the REST API under /api/v1, health and metrics, and the app factory."""
