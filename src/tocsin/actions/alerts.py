"""Applying one inbound alert: deduplicate, group, open an incident, acknowledge, resolve.

Identity: an alert is (integration, dedup key) while it fires. A trigger for a firing
alert only counts (``count`` + 1, latest payload kept): no new incident, no page. Two
triggers for a *new* identity that arrive together serialise on an advisory lock taken on
that identity, so the second finds the first's alert and counts instead of opening a second
incident; different identities never wait for each other.

Grouping (``domain.grouping``): a new alert whose group key matches an open incident of the
same service within the sliding window joins it and pages nobody; group creation is
serialised the same way, on a lock taken on (service, group key).

Resolution: an incident resolves when its last firing alert resolves (the incident row is
locked while counting, so two alerts resolving together cannot both see the other still
firing); resolving an incident resolves its alerts (``incidents.resolve``).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from tocsin.actions import audit, incidents, intake_statements
from tocsin.actions.actors import Actor
from tocsin.db import driver
from tocsin.db.models.incidents import Alert, Incident
from tocsin.db.models.integrations import Integration
from tocsin.db.models.services import Service
from tocsin.domain import grouping
from tocsin.domain.access import Principal, PrincipalKind
from tocsin.domain.incidents import OPEN, AlertStatus, IncidentStatus, urgency_for
from tocsin.errors import StaleTransition
from tocsin.ingest.model import AlertAction, InboundAlert, Severity

DEFAULT_GROUP_WINDOW = timedelta(minutes=60)

ServiceLoader = Callable[[], Awaitable[Service]]


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


def integration_actor(integration: Integration, ip_address: str | None = None) -> Actor:
    return Actor(
        Principal(
            kind=PrincipalKind.INTEGRATION,
            id=integration.id,
            label=f"{integration.name} ({integration.kind.value})",
        ),
        ip_address=ip_address,
    )


async def apply(
    session: AsyncSession,
    *,
    integration: Integration,
    alert: InboundAlert,
    service: ServiceLoader,
    actor: Actor,
    now: datetime,
    routed_by_rule: int | None = None,
) -> Applied:
    """``service`` loads the alert's service; it is only called when an incident must be
    opened or joined, so counting a repeat (half of all traffic) never reads it."""
    if alert.action is AlertAction.TRIGGER:
        return await _trigger(session, integration, alert, service, actor, now, routed_by_rule)
    if alert.action is AlertAction.ACKNOWLEDGE:
        return await _acknowledge(session, integration, alert, actor, now)
    return await _resolve(session, integration, alert, actor, now)


async def _trigger(
    session: AsyncSession,
    integration: Integration,
    alert: InboundAlert,
    load_service: ServiceLoader,
    actor: Actor,
    now: datetime,
    routed_by_rule: int | None,
) -> Applied:
    counted = await _count_repeat(session, integration.id, alert, actor, now)
    if counted is None:
        await _lock(session, f"alert:{integration.id}:{alert.dedup_key}")
        counted = await _count_repeat(session, integration.id, alert, actor, now)
    if counted is not None:
        return Applied(
            Result.DEDUPLICATED,
            alert.dedup_key,
            counted.alert_id,
            counted.incident_id,
            counted.incident_number,
        )

    service = await load_service()
    window = timedelta(minutes=integration.grouping_window_minutes or 0) or DEFAULT_GROUP_WINDOW
    key = grouping.group_key(alert, integration.grouping_fields)
    if key is not None:
        await _lock(session, f"group:{service.id}:{key}")
        joined = await _join_group(session, service.id, key, now, window)
        if joined is not None:
            alert_id = await _insert_alert(session, integration.id, joined.id, alert, now)
            await _record(session, joined, actor, "alert.grouped", now, alert, alert_id)
            return Applied(Result.GROUPED, alert.dedup_key, alert_id, joined.id, joined.number)

    cause: dict[str, object] = {"integration": integration.name, "dedup_key": alert.dedup_key}
    if integration.service_id is None:
        cause["routed"] = f"rule {routed_by_rule}" if routed_by_rule else "fallback service"
    incident_id, number = await _open_with_alert(
        session,
        service=service,
        integration_id=integration.id,
        alert=alert,
        actor=actor,
        now=now,
        group_key=key,
        group_until=now + window if key else None,
        cause=cause,
    )
    return Applied(Result.CREATED, alert.dedup_key, None, incident_id, number)


async def open_incident(
    session: AsyncSession,
    *,
    service: Service,
    title: str,
    description: str,
    severity: Severity,
    actor: Actor,
    now: datetime,
    group_key: str | None = None,
    group_until: datetime | None = None,
    cause: dict[str, object] | None = None,
) -> Incident:
    """An incident opened by a person or by tocsin itself (not by an integration): it
    carries one alert of its own, so it resolves like any other, and escalates like any
    other."""
    alert = InboundAlert(
        action=AlertAction.TRIGGER,
        dedup_key=f"manual:{uuid.uuid4().hex}",
        title=title,
        description=description,
        severity=severity,
        source=f"opened by {actor.principal.label}",
    )
    incident_id, _ = await _open_with_alert(
        session,
        service=service,
        integration_id=None,
        alert=alert,
        actor=actor,
        now=now,
        group_key=group_key,
        group_until=group_until,
        cause=cause or {"opened_by": actor.principal.label},
    )
    incident = await session.get(Incident, incident_id)
    assert incident is not None  # inserted by this transaction just now
    return incident


async def _open_with_alert(
    session: AsyncSession,
    *,
    service: Service,
    integration_id: uuid.UUID | None,
    alert: InboundAlert,
    actor: Actor,
    now: datetime,
    cause: dict[str, object],
    group_key: str | None = None,
    group_until: datetime | None = None,
) -> tuple[uuid.UUID, int]:
    """One round trip: the incident, its first alert, both timeline events, the wake-up."""
    urgency = urgency_for(service.urgency_rule, alert.severity)
    rows = await driver.execute(
        session,
        intake_statements.OPEN_WITH_ALERT,
        {
            "incident_id": uuid.uuid4(),
            "alert_id": uuid.uuid4(),
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
            "received_details": json.dumps(
                {
                    "dedup_key": alert.dedup_key,
                    "title": alert.title,
                    "severity": alert.severity.value,
                }
            ),
            **_statement_params(alert, actor, now),
        },
    )
    incident_id, number = rows[0]
    return incident_id, number


async def _acknowledge(
    session: AsyncSession,
    integration: Integration,
    alert: InboundAlert,
    actor: Actor,
    now: datetime,
) -> Applied:
    row = (
        await session.execute(
            sa.select(Alert.id, Alert.incident_id).where(
                Alert.integration_id == integration.id,
                Alert.dedup_key == alert.dedup_key,
                Alert.status == AlertStatus.FIRING,
            )
        )
    ).first()
    if row is None:
        return Applied(Result.IGNORED, alert.dedup_key, detail="no open alert with this key")
    alert_id, incident_id = row
    try:
        incident = await incidents.acknowledge(
            session, incident_id=incident_id, actor=actor, via=integration.kind.value, now=now
        )
    except StaleTransition as already:
        return Applied(
            Result.IGNORED, alert.dedup_key, alert_id, incident_id, detail=already.detail
        )
    return Applied(Result.ACKNOWLEDGED, alert.dedup_key, alert_id, incident.id, incident.number)


async def _resolve(
    session: AsyncSession,
    integration: Integration,
    alert: InboundAlert,
    actor: Actor,
    now: datetime,
) -> Applied:
    row = (
        await session.execute(
            sa.update(Alert)
            .where(
                Alert.integration_id == integration.id,
                Alert.dedup_key == alert.dedup_key,
                Alert.status == AlertStatus.FIRING,
            )
            .values(status=AlertStatus.RESOLVED, resolved_at=now, last_seen_at=now)
            .returning(Alert.id, Alert.incident_id)
        )
    ).first()
    if row is None:
        return Applied(Result.IGNORED, alert.dedup_key, detail="no open alert with this key")
    alert_id, incident_id = row
    # Lock the incident before counting: of two alerts resolving together, the second
    # waits here and then sees that the first is resolved too.
    incident = (
        await session.scalars(
            sa.select(Incident)
            .where(Incident.id == incident_id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
    ).one()
    await _record(session, incident, actor, "alert.resolved", now, alert, alert_id)
    still_firing = await session.scalar(
        sa.select(sa.func.count())
        .select_from(Alert)
        .where(Alert.incident_id == incident_id, Alert.status == AlertStatus.FIRING)
    )
    if still_firing or incident.status not in OPEN:
        return Applied(Result.RESOLVED, alert.dedup_key, alert_id, incident.id, incident.number)
    resolved = await incidents.resolve(
        session,
        incident_id=incident.id,
        actor=actor,
        via=integration.kind.value,
        now=now,
        note="all of its alerts resolved",
    )
    return Applied(Result.RESOLVED, alert.dedup_key, alert_id, resolved.id, resolved.number)


@dataclass(frozen=True)
class _Counted:
    alert_id: uuid.UUID
    incident_id: uuid.UUID
    count: int
    incident_number: int


async def _count_repeat(
    session: AsyncSession,
    integration_id: uuid.UUID,
    alert: InboundAlert,
    actor: Actor,
    now: datetime,
) -> _Counted | None:
    rows = await driver.execute(
        session,
        intake_statements.COUNT_REPEAT,
        {"integration_id": integration_id, **_statement_params(alert, actor, now)},
    )
    return _Counted(*rows[0]) if rows else None


def _statement_params(alert: InboundAlert, actor: Actor, now: datetime) -> dict[str, object]:
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


async def _join_group(
    session: AsyncSession, service_id: uuid.UUID, key: str, now: datetime, window: timedelta
) -> Incident | None:
    incident = await session.scalar(
        sa.select(Incident)
        .where(
            Incident.service_id == service_id,
            Incident.group_key == key,
            Incident.status != IncidentStatus.RESOLVED,
            Incident.group_until >= now,
        )
        .order_by(Incident.created_at.desc())
        .limit(1)
        .with_for_update()
    )
    if incident is None:
        return None
    incident.alert_count += 1
    incident.last_alert_at = now
    incident.group_until = now + window
    await session.flush()
    return incident


async def _insert_alert(
    session: AsyncSession,
    integration_id: uuid.UUID | None,
    incident_id: uuid.UUID,
    alert: InboundAlert,
    now: datetime,
) -> uuid.UUID:
    alert_id = uuid.uuid4()
    await session.execute(
        sa.insert(Alert).values(
            id=alert_id,
            integration_id=integration_id,
            incident_id=incident_id,
            dedup_key=alert.dedup_key,
            status=AlertStatus.FIRING,
            count=1,
            first_seen_at=now,
            last_seen_at=now,
            **_payload(alert),
        )
    )
    return alert_id


def _payload(alert: InboundAlert) -> dict[str, object]:
    return {
        "title": alert.title,
        "description": alert.description,
        "severity": alert.severity,
        "source": alert.source[:1024],
        "labels": dict(alert.labels),
        "details": dict(alert.details),
        "links": [link.as_json() for link in alert.links],
        "occurred_at": alert.occurred_at,
    }


async def _lock(session: AsyncSession, name: str) -> None:
    await driver.execute(
        session, "SELECT pg_advisory_xact_lock(hashtextextended(%(name)s, 0))", {"name": name}
    )


async def _record(
    session: AsyncSession,
    incident: Incident,
    actor: Actor,
    action: str,
    now: datetime,
    alert: InboundAlert,
    alert_id: uuid.UUID,
) -> None:
    await audit.record(
        session,
        actor=actor,
        action=action,
        resource_type="incident",
        resource_id=incident.id,
        team_id=incident.team_id,
        now=now,
        details={
            "alert_id": str(alert_id),
            "dedup_key": alert.dedup_key,
            "title": alert.title,
            "severity": alert.severity.value,
        },
    )
