"""Applying one inbound alert: a trigger (``alert_triggers``), an acknowledge or a resolve.

Resolution: an incident resolves when its last firing alert resolves (the incident row is
locked while counting, so two alerts resolving together cannot both see the other still
firing); resolving an incident resolves its alerts (``incidents.resolve``). Acknowledge and
resolve events go through the ORM incident actions, so they need a session; triggers run
over any ``Executor`` (intake's hot path uses a raw connection, see ``actions/intake/pipeline.py``).
"""

from __future__ import annotations

import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from tocsin.actions import audit
from tocsin.actions.actors import Actor
from tocsin.actions.incidents import incidents
from tocsin.actions.intake import triggers
from tocsin.actions.intake.lookups import IntakeIntegration
from tocsin.db.executors import OnSession
from tocsin.db.models.incidents import Alert, Incident
from tocsin.domain.access import Principal, PrincipalKind
from tocsin.domain.alerts import AlertAction, InboundAlert, Severity
from tocsin.domain.incidents import OPEN, AlertStatus
from tocsin.errors import StaleTransition

Result = triggers.Result
Applied = triggers.Applied
ServiceLoader = triggers.ServiceLoader


def integration_actor(integration: IntakeIntegration, ip_address: str | None = None) -> Actor:
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
    integration: IntakeIntegration,
    alert: InboundAlert,
    service: ServiceLoader,
    actor: Actor,
    now: datetime,
    routed: str | None = None,
) -> Applied:
    """``service`` loads the alert's service; it is only called when an incident must be
    opened or joined, so counting a repeat never reads it."""
    if alert.action is AlertAction.TRIGGER:
        return await triggers.trigger(
            OnSession(session),
            source=source_of(integration, routed),
            alert=alert,
            service=service,
            actor=actor,
            now=now,
        )
    if alert.action is AlertAction.ACKNOWLEDGE:
        return await _acknowledge(session, integration, alert, actor, now)
    return await _resolve(session, integration, alert, actor, now)


def source_of(integration: IntakeIntegration, routed: str | None) -> triggers.Source:
    return triggers.Source(
        integration_id=integration.id,
        integration_name=integration.name,
        grouping_fields=integration.grouping_fields,
        grouping_window_minutes=integration.grouping_window_minutes,
        routed=routed,
    )


async def open_incident(
    session: AsyncSession,
    *,
    service: triggers.ServiceFacts,
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
    incident_id, _ = await triggers.open_with_alert(
        OnSession(session),
        service=service,
        integration_id=None,
        alert=alert,
        alert_id=uuid.uuid4(),
        actor=actor,
        now=now,
        group_key=group_key,
        group_until=group_until,
        cause=cause or {"opened_by": actor.principal.label},
    )
    incident = await session.get(Incident, incident_id)
    assert incident is not None  # inserted by this transaction just now
    return incident


async def _acknowledge(
    session: AsyncSession,
    integration: IntakeIntegration,
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
    integration: IntakeIntegration,
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
    # waits here and then sees that the first is resolved too. FOR NO KEY UPDATE, as every
    # incident lock: rows inserted for an incident (pages, deliveries, links) check their
    # foreign key with FOR KEY SHARE, which must not wait behind this lock while this
    # transaction waits for them (resolving cancels the pages the engine is dispatching).
    incident = (
        await session.scalars(
            sa.select(Incident)
            .where(Incident.id == incident_id)
            .with_for_update(key_share=True)
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
