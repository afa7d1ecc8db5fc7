"""Request and response bodies of users, teams, API keys and the audit log."""
