"""Pages for escalation policies."""
