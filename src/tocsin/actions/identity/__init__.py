"""Who people are and what they may do: users, teams and their roles, sign-in, API keys."""
