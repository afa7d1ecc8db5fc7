"""Schedules, overrides, on-call queries and calendar feeds."""
