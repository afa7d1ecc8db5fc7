"""Request and response bodies of the REST API, kept apart from the tables."""
