"""Tables, sessions, migrations and the embedded PostgreSQL."""
