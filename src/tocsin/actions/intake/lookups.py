"""What alert intake reads: the integration behind a key, its routing rules, a service.

Plain SQL through an ``Executor`` (see ``db/executors.py``): intake reads these on every
request, on the raw connection of its hot path. Trusted, no actor: the integration key in
the request is the credential.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from tocsin.db.executors import Executor, read_once
from tocsin.db.models.integrations import HeartbeatState, Integration, IntegrationKind
from tocsin.domain import routing
from tocsin.domain.incidents import UrgencyRule
from tocsin.errors import NotFound
from tocsin.security import tokens


@dataclass(frozen=True)
class IntakeIntegration:
    id: uuid.UUID
    name: str
    kind: IntegrationKind
    service_id: uuid.UUID | None
    fallback_service_id: uuid.UUID | None
    grouping_fields: tuple[str, ...]
    grouping_window_minutes: int | None
    signing_secret_encrypted: str | None
    heartbeat_interval_minutes: int | None
    heartbeat_state: HeartbeatState | None
    last_event_at: datetime | None

    @classmethod
    def of(cls, row: Integration) -> IntakeIntegration:
        """The same facts from an ORM row (the engine's heartbeat module has those)."""
        return cls(
            id=row.id,
            name=row.name,
            kind=row.kind,
            service_id=row.service_id,
            fallback_service_id=row.fallback_service_id,
            grouping_fields=tuple(row.grouping_fields),
            grouping_window_minutes=row.grouping_window_minutes,
            signing_secret_encrypted=row.signing_secret_encrypted,
            heartbeat_interval_minutes=row.heartbeat_interval_minutes,
            heartbeat_state=row.heartbeat_state,
            last_event_at=row.last_event_at,
        )


@dataclass(frozen=True)
class ServiceRef:
    """What opening an incident needs to know about its service."""

    id: uuid.UUID
    team_id: uuid.UUID
    name: str
    escalation_policy_id: uuid.UUID | None
    urgency_rule: UrgencyRule


_INTEGRATION = """
    SELECT id, name, kind, service_id, fallback_service_id, grouping_fields,
           grouping_window_minutes, signing_secret_encrypted, heartbeat_interval_minutes,
           heartbeat_state, last_event_at
    FROM integration
    WHERE key_hash = %(key_hash)s AND is_enabled
"""

_SERVICE = """
    SELECT id, team_id, name, escalation_policy_id, urgency_rule FROM service WHERE id = %(id)s
"""

_RULES = """
    SELECT service_id, conditions FROM routing_rule
    WHERE integration_id = %(integration_id)s
    ORDER BY position
"""


async def integration_for_key(executor: Executor, key: str) -> IntakeIntegration | None:
    """The enabled integration a presented key names; a disabled one looks unknown."""
    key_hash = tokens.digest(key)
    return await read_once(
        executor, ("integration", key_hash), lambda: _integration(executor, key_hash)
    )


async def _integration(executor: Executor, key_hash: str) -> IntakeIntegration | None:
    rows = await executor.rows(_INTEGRATION, {"key_hash": key_hash})
    if not rows:
        return None
    (id_, name, kind, service, fallback, fields, window, secret, interval, state, seen) = rows[0]
    return IntakeIntegration(
        id=id_,
        name=name,
        kind=IntegrationKind(kind),
        service_id=service,
        fallback_service_id=fallback,
        grouping_fields=tuple(fields or ()),
        grouping_window_minutes=window,
        signing_secret_encrypted=secret,
        heartbeat_interval_minutes=interval,
        heartbeat_state=HeartbeatState(state) if state else None,
        last_event_at=seen,
    )


async def service_ref(executor: Executor, service_id: uuid.UUID) -> ServiceRef:
    return await read_once(
        executor, ("service", service_id), lambda: _service(executor, service_id)
    )


async def _service(executor: Executor, service_id: uuid.UUID) -> ServiceRef:
    rows = await executor.rows(_SERVICE, {"id": service_id})
    if not rows:
        raise NotFound("service", service_id)
    id_, team_id, name, policy_id, urgency_rule = rows[0]
    return ServiceRef(id_, team_id, name, policy_id, UrgencyRule(urgency_rule))


async def routing_rules(executor: Executor, integration_id: uuid.UUID) -> list[routing.Rule]:
    """The integration's rules in order (first match wins)."""
    return await read_once(
        executor, ("routing rules", integration_id), lambda: _rules(executor, integration_id)
    )


async def _rules(executor: Executor, integration_id: uuid.UUID) -> list[routing.Rule]:
    rows = await executor.rows(_RULES, {"integration_id": integration_id})
    return [
        routing.Rule(
            service_id=service_id,
            conditions=tuple(_condition(condition) for condition in conditions),
        )
        for service_id, conditions in rows
    ]


def _condition(stored: dict[str, Any]) -> routing.Condition:
    return routing.Condition(
        field=stored["field"], operator=routing.Operator(stored["operator"]), value=stored["value"]
    )
