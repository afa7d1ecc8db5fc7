"""What the API and the pages share at the HTTP edge: the app context, dependencies (sessions,
actors, CSRF), problem+json errors and request guards."""
