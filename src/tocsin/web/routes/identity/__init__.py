"""Pages for signing in, your profile, teams, and (platform admins) users and API keys."""
