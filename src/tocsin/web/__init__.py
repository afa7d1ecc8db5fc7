"""Server-rendered pages (Jinja2 + htmx). Page handlers call the same actions as the API."""
