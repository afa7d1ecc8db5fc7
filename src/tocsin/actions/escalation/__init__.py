"""Escalation policies and the steps that walk an incident through them."""
