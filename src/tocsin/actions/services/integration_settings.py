"""The checks on what an integration is set to: its destination, grouping and heartbeat.

Separate from ``integrations.py`` (which writes) so each reads on its own. Every check
raises ``InvalidInput`` naming the field as the API spells it (``routing_rules[2].
conditions[0].value``, ``grouping.fields[1]``), so the same path comes back whether the
request came from the API, a page or a test builder.
"""

from __future__ import annotations

import base64
import secrets
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from tocsin.db.models.integrations import Integration, IntegrationKind
from tocsin.db.models.services import Service
from tocsin.domain import routing
from tocsin.errors import InvalidInput
from tocsin.ingest import signatures

MAX_RULES = 50
MAX_CONDITIONS = 20
MAX_GROUPING_FIELDS = 10
GROUPING_WINDOW_RANGE = (1, 7 * 24 * 60)
HEARTBEAT_INTERVAL_RANGE = (1, 7 * 24 * 60)
# The kinds whose senders can sign: Grafana's HMAC, and Standard Webhooks for generic.
SIGNED_KINDS = frozenset({IntegrationKind.GRAFANA, IntegrationKind.GENERIC})


@dataclass(frozen=True)
class Destination:
    """Where alerts go: one service, or ordered routing rules and a fallback service."""

    service_id: uuid.UUID | None = None
    rules: tuple[routing.Rule, ...] = ()
    fallback_service_id: uuid.UUID | None = None

    def service_ids(self) -> set[uuid.UUID]:
        ids = {rule.service_id for rule in self.rules}
        ids.update(i for i in (self.service_id, self.fallback_service_id) if i is not None)
        return ids


def check_shape(destination: Destination, kind: IntegrationKind) -> None:
    """Exactly one of a service and a fallback; rules only beside a fallback."""
    if (destination.service_id is None) == (destination.fallback_service_id is None):
        raise InvalidInput(
            "service_id", "give either service_id, or fallback_service_id with routing_rules"
        )
    if destination.service_id is not None and destination.rules:
        raise InvalidInput(
            "routing_rules", "routing rules need a fallback_service_id instead of a service_id"
        )
    if kind is IntegrationKind.HEARTBEAT and destination.service_id is None:
        raise InvalidInput("service_id", "a heartbeat belongs to one service")
    if len(destination.rules) > MAX_RULES:
        raise InvalidInput("routing_rules", f"an integration has at most {MAX_RULES} rules")
    for index, rule in enumerate(destination.rules):
        path = f"routing_rules[{index}].conditions"
        if not 1 <= len(rule.conditions) <= MAX_CONDITIONS:
            raise InvalidInput(
                path,
                f"a rule has 1 to {MAX_CONDITIONS} conditions (the fallback catches the rest)",
            )
        for number, condition in enumerate(rule.conditions):
            check_field_name(condition.field, f"{path}[{number}].field")
            problem = routing.problem_with(condition)
            if problem is not None:
                raise InvalidInput(f"{path}[{number}].value", problem)


async def check_services_exist(session: AsyncSession, destination: Destination) -> set[uuid.UUID]:
    """The teams owning the destination's services; each service is share-locked so it
    cannot be deleted before this change commits."""
    rows = await session.execute(
        sa.select(Service.id, Service.team_id)
        .where(Service.id.in_(destination.service_ids()))
        .with_for_update(key_share=True)
    )
    teams = {service_id: team_id for service_id, team_id in rows}
    named = [("service_id", destination.service_id)]
    named += [
        (f"routing_rules[{index}].service_id", rule.service_id)
        for index, rule in enumerate(destination.rules)
    ]
    named.append(("fallback_service_id", destination.fallback_service_id))
    for field, service_id in named:
        if service_id is not None and service_id not in teams:
            raise InvalidInput(field, f"service {service_id} does not exist")
    return set(teams.values())


def check_grouping(fields: Sequence[str], window_minutes: int | None) -> tuple[str, ...]:
    if len(fields) > MAX_GROUPING_FIELDS:
        raise InvalidInput("grouping.fields", f"group by at most {MAX_GROUPING_FIELDS} fields")
    for index, name in enumerate(fields):
        check_field_name(name, f"grouping.fields[{index}]")
        if name in fields[:index]:
            raise InvalidInput(f"grouping.fields[{index}]", f"{name} is listed twice")
    if window_minutes is not None:
        if not fields:
            raise InvalidInput("grouping.window_minutes", "a window needs fields to group by")
        check_range(window_minutes, "grouping.window_minutes", GROUPING_WINDOW_RANGE)
    return tuple(fields)


def check_heartbeat(kind: IntegrationKind, interval_minutes: int | None) -> int | None:
    if kind is not IntegrationKind.HEARTBEAT:
        if interval_minutes is not None:
            raise InvalidInput("heartbeat_interval_minutes", "only heartbeats have an interval")
        return None
    if interval_minutes is None:
        raise InvalidInput("heartbeat_interval_minutes", "a heartbeat needs an interval")
    return check_range(interval_minutes, "heartbeat_interval_minutes", HEARTBEAT_INTERVAL_RANGE)


def check_signing(kind: IntegrationKind, signing: bool) -> None:
    if signing and kind not in SIGNED_KINDS:
        raise InvalidInput(
            "signing", f"only {' and '.join(sorted(SIGNED_KINDS))} integrations can be signed"
        )


def check_field_name(name: str, path: str) -> None:
    """Routing and grouping read the same fields: ``title``… or ``labels.<name>``."""
    problem = routing.problem_with(routing.Condition(name, routing.Operator.EQUALS, ""))
    if problem is not None:
        raise InvalidInput(path, problem)


def check_range(value: int, field: str, bounds: tuple[int, int]) -> int:
    low, high = bounds
    if not low <= value <= high:
        raise InvalidInput(field, f"{field} must be between {low} and {high}")
    return value


def regroup(
    integration: Integration,
    grouping_fields: Sequence[str] | None,
    window_minutes: int | None,
    *,
    clear_window: bool,
) -> list[str]:
    """Apply a grouping change; ``["grouping"]`` if anything changed, else ``[]``."""
    fields = list(grouping_fields) if grouping_fields is not None else integration.grouping_fields
    window = integration.grouping_window_minutes
    if window_minutes is not None or clear_window:
        window = window_minutes
    if grouping_fields is not None and not fields and window_minutes is None:
        window = None  # clearing the fields clears the window that went with them
    if fields == integration.grouping_fields and window == integration.grouping_window_minutes:
        return []
    integration.grouping_fields = list(check_grouping(fields, window))
    integration.grouping_window_minutes = window
    return ["grouping"]


def new_signing_secret(kind: IntegrationKind) -> str:
    if kind is IntegrationKind.GENERIC:
        # Standard Webhooks: whsec_ and the base64 of the HMAC key (24 to 64 bytes).
        raw = secrets.token_bytes(32)
        return signatures.SECRET_PREFIX + base64.b64encode(raw).decode()
    return secrets.token_urlsafe(32)


def summary(integration: Integration, rules: Sequence[routing.Rule]) -> dict[str, Any]:
    return {
        "name": integration.name,
        "kind": integration.kind.value,
        "service_id": _text(integration.service_id),
        "fallback_service_id": _text(integration.fallback_service_id),
        "routing_rules": [
            {"service_id": str(rule.service_id), "conditions": len(rule.conditions)}
            for rule in rules
        ],
        "grouping_fields": list(integration.grouping_fields),
        "grouping_window_minutes": integration.grouping_window_minutes,
        "signing": integration.signing_secret_encrypted is not None,
        "heartbeat_interval_minutes": integration.heartbeat_interval_minutes,
    }


def _text(value: uuid.UUID | None) -> str | None:
    return str(value) if value else None
