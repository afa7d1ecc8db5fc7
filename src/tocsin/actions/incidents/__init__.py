"""Incidents and their transitions (acknowledge, resolve, snooze, escalate, reassign, notes), and
reading them."""
