"""Imports every model module so ``Base.metadata`` knows every table (for Alembic)."""

from tocsin.db.models import (
    api_keys,
    audit,
    contact_methods,
    deliveries,
    escalation_policies,
    follow_ups,
    incidents,
    integrations,
    schedules,
    services,
    slack,
    teams,
    teams_bot,
    users,
    web_sessions,
)

__all__ = [
    "api_keys",
    "audit",
    "contact_methods",
    "deliveries",
    "escalation_policies",
    "follow_ups",
    "incidents",
    "integrations",
    "schedules",
    "services",
    "slack",
    "teams",
    "teams_bot",
    "users",
    "web_sessions",
]
