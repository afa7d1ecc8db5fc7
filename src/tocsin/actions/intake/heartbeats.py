"""Heartbeat monitors: a service expects a ping every N minutes.

A heartbeat integration starts ``waiting`` (nothing can be missed before the first ping).
Each ping moves ``heartbeat_expires_at`` one interval ahead; if it passes without a ping,
the engine marks the monitor ``missed`` and triggers an alert on its service (dedup key
``heartbeat``), which opens an incident like any other. The next ping resolves that alert,
and with it the incident if nothing else fires on it.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from tocsin.actions.intake import alerts
from tocsin.actions.intake.lookups import IntakeIntegration
from tocsin.db.models.integrations import HeartbeatState, Integration
from tocsin.db.models.services import Service
from tocsin.domain.alerts import AlertAction, InboundAlert, Severity
from tocsin.errors import NotFound

DEDUP_KEY = "heartbeat"


async def ping(
    session: AsyncSession,
    *,
    integration: IntakeIntegration,
    now: datetime,
    ip_address: str | None,
) -> alerts.Applied | None:
    """Record a ping; returns how the missed-heartbeat alert was resolved, if it was."""
    interval = timedelta(minutes=integration.heartbeat_interval_minutes or 0)
    # Lock the monitor: of two pings racing after a miss, one resolves and one just pings.
    # FOR NO KEY UPDATE, so that alerts arriving for the integration meanwhile (their
    # foreign key check takes KEY SHARE) do not wait for it.
    state = await session.scalar(
        sa.select(Integration.heartbeat_state)
        .where(Integration.id == integration.id)
        .with_for_update(key_share=True)
    )
    await session.execute(
        sa.update(Integration)
        .where(Integration.id == integration.id)
        .values(
            heartbeat_state=HeartbeatState.OK,
            heartbeat_expires_at=now + interval,
            last_event_at=now,
        )
        .execution_options(synchronize_session=False)
    )
    if state is not HeartbeatState.MISSED:
        return None
    return await alerts.apply(
        session,
        integration=integration,
        alert=InboundAlert(
            action=AlertAction.RESOLVE,
            dedup_key=DEDUP_KEY,
            title="",
            severity=Severity.ERROR,
        ),
        service=lambda: _service(session, integration),
        actor=alerts.integration_actor(integration, ip_address),
        now=now,
    )


async def expire(session: AsyncSession, *, integration: IntakeIntegration, now: datetime) -> bool:
    """The engine's half: a monitor whose ping is overdue is missed, and alerts."""
    missed = await session.execute(
        sa.update(Integration)
        .where(
            Integration.id == integration.id,
            Integration.heartbeat_state == HeartbeatState.OK,
            Integration.heartbeat_expires_at <= now,
        )
        .values(heartbeat_state=HeartbeatState.MISSED)
        .execution_options(synchronize_session=False)
    )
    if not missed.rowcount:  # type: ignore[attr-defined]
        return False
    minutes = integration.heartbeat_interval_minutes
    await alerts.apply(
        session,
        integration=integration,
        alert=InboundAlert(
            action=AlertAction.TRIGGER,
            dedup_key=DEDUP_KEY,
            title=f"Heartbeat {integration.name} missed: no ping for {minutes} minutes",
            description=f"tocsin expects a ping every {minutes} minutes; none came in time.",
            severity=Severity.ERROR,
            source=integration.name,
        ),
        service=lambda: _service(session, integration),
        actor=alerts.integration_actor(integration),
        now=now,
    )
    return True


async def _service(session: AsyncSession, integration: IntakeIntegration) -> Service:
    service_id = integration.service_id or integration.fallback_service_id
    service = await session.get(Service, service_id) if service_id else None
    if service is None:
        raise NotFound("service", service_id)
    return service
