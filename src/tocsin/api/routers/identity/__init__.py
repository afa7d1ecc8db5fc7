"""Users, teams, API keys, the signed-in person (/me) and the audit log."""
