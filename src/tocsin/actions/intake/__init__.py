"""Alerts in: the intake pipeline (dedup, routing, grouping into incidents), the log of what each
integration received, change events and heartbeats."""
