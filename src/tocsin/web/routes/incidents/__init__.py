"""Pages for incidents: the list, one incident with its timeline, and its buttons."""
