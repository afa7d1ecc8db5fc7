"""Providers of the email channel: SMTP, and the local outbox when no SMTP server is set."""
