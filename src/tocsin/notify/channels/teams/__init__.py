"""Microsoft Teams: incidents posted to a channel through a Workflows webhook, with
buttons that lead to tocsin's confirmation pages (``docs/channels/teams.md``)."""
