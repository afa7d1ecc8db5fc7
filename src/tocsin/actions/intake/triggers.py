"""A trigger: count a repeat, join a group, or open an incident — over any ``Executor``.

Identity: an alert is (integration, dedup key) while it fires. A trigger for a firing
alert only counts (``count`` + 1, latest payload kept): no new incident, no page. Two
triggers for a *new* identity that arrive together serialise on an advisory lock taken on
that identity, so the second finds the first's alert and counts instead of opening a second
incident; different identities never wait for each other.

Grouping (``domain.grouping``): a new alert whose group key matches an open incident of the
same service within the sliding window joins it and pages nobody; group creation is
serialised the same way, on a lock taken on (service, group key).

Each outcome is one statement (``intake_statements``), so this runs on intake's raw
connection as well as inside a SQLAlchemy session (``db/executors.py``).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any, Protocol

from tocsin.actions.actors import Actor
from tocsin.actions.intake import statements as sql
from tocsin.db.executors import Executor
from tocsin.domain import grouping
from tocsin.domain.alerts import InboundAlert
from tocsin.domain.incidents import UrgencyRule, urgency_for

DEFAULT_GROUP_WINDOW = timedelta(minutes=60)


class ServiceFacts(Protocol):
    """What opening an incident needs about its service (a ``Service`` row or a
    ``ServiceRef``)."""

    @property
    def id(self) -> uuid.UUID: ...
    @property
    def team_id(self) -> uuid.UUID: ...
    @property
    def name(self) -> str: ...
    @property
    def escalation_policy_id(self) -> uuid.UUID | None: ...
    @property
    def urgency_rule(self) -> UrgencyRule: ...


ServiceLoader = Callable[[], Awaitable[ServiceFacts]]


class Result(StrEnum):
    CREATED = "created"
    DEDUPLICATED = "deduplicated"
    GROUPED = "grouped"
    ACKNOWLEDGED = "acknowledged"
    RESOLVED = "resolved"
    IGNORED = "ignored"


@dataclass(frozen=True)
class Applied:
    result: Result
    dedup_key: str
    alert_id: uuid.UUID | None = None
    incident_id: uuid.UUID | None = None
    incident_number: int | None = None
    detail: str = ""


@dataclass(frozen=True)
class Source:
    """Where the trigger came from, as far as the incident needs to know."""

    integration_id: uuid.UUID | None
    integration_name: str | None = None
    grouping_fields: tuple[str, ...] = ()
    grouping_window_minutes: int | None = None
    routed: str | None = None


async def trigger(
    executor: Executor,
    *,
    source: Source,
    alert: InboundAlert,
    service: ServiceLoader,
    actor: Actor,
    now: datetime,
) -> Applied:
    """``service`` is only called when an incident must be opened or joined: counting a
    repeat (half of all traffic, say) never reads it."""
    params = statement_params(alert, actor, now)
    counted = await _count_repeat(executor, source.integration_id, params)
    if counted is None:
        await executor.rows(sql.LOCK, {"name": f"alert:{source.integration_id}:{alert.dedup_key}"})
        counted = await _count_repeat(executor, source.integration_id, params)
    if counted is not None:
        alert_id, incident_id, _, number = counted
        return Applied(Result.DEDUPLICATED, alert.dedup_key, alert_id, incident_id, number)

    facts = await service()
    window = timedelta(minutes=source.grouping_window_minutes or 0) or DEFAULT_GROUP_WINDOW
    key = grouping.group_key(alert, source.grouping_fields)
    alert_id = uuid.uuid4()
    if key is not None:
        await executor.rows(sql.LOCK, {"name": f"group:{facts.id}:{key}"})
        joined = await executor.rows(
            sql.JOIN_GROUP,
            {
                **params,
                "service_id": facts.id,
                "group_key": key,
                "group_until": now + window,
                "alert_id": alert_id,
                "integration_id": source.integration_id,
                "received_details": _received(alert, alert_id),
            },
        )
        if joined:
            incident_id, number = joined[0]
            return Applied(Result.GROUPED, alert.dedup_key, alert_id, incident_id, number)

    cause: dict[str, object] = {"dedup_key": alert.dedup_key}
    if source.integration_name:
        cause["integration"] = source.integration_name
    if source.routed:
        cause["routed"] = source.routed
    incident_id, number = await open_with_alert(
        executor,
        service=facts,
        integration_id=source.integration_id,
        alert=alert,
        alert_id=alert_id,
        actor=actor,
        now=now,
        cause=cause,
        group_key=key,
        group_until=now + window if key else None,
    )
    return Applied(Result.CREATED, alert.dedup_key, alert_id, incident_id, number)


async def open_with_alert(
    executor: Executor,
    *,
    service: ServiceFacts,
    integration_id: uuid.UUID | None,
    alert: InboundAlert,
    alert_id: uuid.UUID,
    actor: Actor,
    now: datetime,
    cause: dict[str, object],
    group_key: str | None = None,
    group_until: datetime | None = None,
) -> tuple[uuid.UUID, int]:
    """One round trip: the incident, its first alert, both timeline events, the wake-up."""
    urgency = urgency_for(service.urgency_rule, alert.severity)
    rows = await executor.rows(
        sql.OPEN_WITH_ALERT,
        {
            "incident_id": uuid.uuid4(),
            "alert_id": alert_id,
            "service_id": service.id,
            "team_id": service.team_id,
            "incident_title": alert.title,
            "incident_description": alert.description,
            "urgency": urgency.value,
            "group_key": group_key,
            "group_until": group_until,
            "policy_id": service.escalation_policy_id,
            # Due at once, with or without a policy: the engine freezes the policy (or
            # notes that there is none) at this first step.
            "next_escalation_at": now,
            "integration_id": integration_id,
            "triggered_details": json.dumps(
                {"service": service.name, "urgency": urgency.value, **cause}, default=str
            ),
            "received_details": _received(alert, alert_id),
            **statement_params(alert, actor, now),
        },
    )
    incident_id, number = rows[0]
    return incident_id, number


async def _count_repeat(
    executor: Executor, integration_id: uuid.UUID | None, params: dict[str, Any]
) -> tuple[Any, ...] | None:
    rows = await executor.rows(sql.COUNT_REPEAT, {"integration_id": integration_id, **params})
    return rows[0] if rows else None


def _received(alert: InboundAlert, alert_id: uuid.UUID) -> str:
    return json.dumps(
        {
            "alert_id": str(alert_id),
            "dedup_key": alert.dedup_key,
            "title": alert.title,
            "severity": alert.severity.value,
        }
    )


def statement_params(alert: InboundAlert, actor: Actor, now: datetime) -> dict[str, Any]:
    return {
        "now": now,
        "dedup_key": alert.dedup_key,
        "title": alert.title,
        "description": alert.description,
        "severity": alert.severity.value,
        "source": alert.source[:1024],
        "labels": json.dumps(dict(alert.labels)),
        "details": json.dumps(dict(alert.details), default=str),
        "links": json.dumps([link.as_json() for link in alert.links]),
        "occurred_at": alert.occurred_at,
        "actor_kind": actor.principal.kind.value,
        "actor_id": actor.principal.id,
        "actor_label": actor.principal.label[:320],
        "ip_address": actor.ip_address,
    }
