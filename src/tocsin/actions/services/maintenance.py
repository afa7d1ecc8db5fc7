"""Maintenance windows of a service: when its escalations wait.

A service's managers (the admins of its team) add and remove windows; anyone who may read
the service reads them. A window is one-off, or recurring by an RRULE whose occurrences
start at the wall-clock time of ``starts_at`` in the window's time zone; the rules are in
``domain/maintenance.py``. Windows are not edited: remove one and add another, so the
audit trail shows exactly which hold was in force when.

``maintenance_windows_for`` and ``Holds`` are the engine's interface: trusted, no actor.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from tocsin.actions import audit
from tocsin.actions.actors import Actor
from tocsin.actions.services import services
from tocsin.actions.wake import wake_engine
from tocsin.db.models.incidents import Incident, kept_version
from tocsin.db.models.services import MaintenanceWindow
from tocsin.domain import identity, maintenance
from tocsin.domain.incidents import IncidentStatus
from tocsin.errors import InvalidInput, NotFound

MAX_WINDOWS_PER_SERVICE = 100


async def create_window(
    session: AsyncSession,
    *,
    actor: Actor,
    service_id: uuid.UUID,
    starts_at: datetime,
    ends_at: datetime,
    now: datetime,
    recurrence: str | None = None,
    time_zone: str = "UTC",
    description: str = "",
) -> MaintenanceWindow:
    # The service row lock serialises additions, so the per-service cap cannot be raced.
    service = await services.locked_for_change(session, actor=actor, service_id=service_id)
    for field, instant in (("starts_at", starts_at), ("ends_at", ends_at)):
        if instant.tzinfo is None:
            raise InvalidInput(field, "an instant with an offset, such as 2026-03-02T09:00:00Z")
    rule = recurrence.strip() if recurrence is not None else None
    window = maintenance.Window(
        starts_at=starts_at.astimezone(UTC),
        ends_at=ends_at.astimezone(UTC),
        recurrence=rule or None,
        time_zone=identity.validate_time_zone(time_zone),
    )
    problem = maintenance.problem_with(window)
    if problem is not None:
        raise InvalidInput(*problem)
    if window.recurrence is None and window.ends_at <= now:
        raise InvalidInput("ends_at", "this window is already over")
    count = await session.scalar(
        sa.select(sa.func.count())
        .select_from(MaintenanceWindow)
        .where(MaintenanceWindow.service_id == service.id)
    )
    if (count or 0) >= MAX_WINDOWS_PER_SERVICE:
        raise InvalidInput(
            "service_id", f"a service has at most {MAX_WINDOWS_PER_SERVICE} maintenance windows"
        )
    row = MaintenanceWindow(
        id=uuid.uuid4(),
        service_id=service.id,
        description=_description(description),
        starts_at=window.starts_at,
        ends_at=window.ends_at,
        recurrence=window.recurrence,
        time_zone=window.time_zone,
        created_at=now,
    )
    session.add(row)
    await session.flush()
    await audit.record(
        session,
        actor=actor,
        action="service.maintenance_window_added",
        resource_type="service",
        resource_id=service.id,
        team_id=service.team_id,
        now=now,
        details=_details(row),
    )
    return row


async def delete_window(
    session: AsyncSession,
    *,
    actor: Actor,
    service_id: uuid.UUID,
    window_id: uuid.UUID,
    now: datetime,
) -> None:
    """Incidents held by the window escalate at the engine's next look."""
    service = await services.locked_for_change(session, actor=actor, service_id=service_id)
    row = await session.get(MaintenanceWindow, window_id)
    if row is None or row.service_id != service.id:
        raise NotFound("maintenance window", window_id)
    await session.delete(row)
    await session.flush()
    # A held incident waits on the hold's end (next_escalation_at = held_until), which
    # would leave it silent until the removed window's end. Make it due now: the engine
    # looks again at once and escalates it, or holds it anew if another window covers it.
    released = await session.execute(
        sa.update(Incident)
        .where(
            Incident.service_id == service.id,
            Incident.status == IncidentStatus.TRIGGERED,
            Incident.held_until > now,
            Incident.next_escalation_at == Incident.held_until,
        )
        .values(next_escalation_at=now, updated_at=kept_version(now))
        .execution_options(synchronize_session=False)
    )
    if released.rowcount:  # type: ignore[attr-defined]
        await wake_engine(session)
    await audit.record(
        session,
        actor=actor,
        action="service.maintenance_window_removed",
        resource_type="service",
        resource_id=service.id,
        team_id=service.team_id,
        now=now,
        details=_details(row),
    )


async def list_windows(
    session: AsyncSession, *, actor: Actor, service_id: uuid.UUID
) -> list[MaintenanceWindow]:
    """Every window of the service, earliest start first (past one-off windows too)."""
    await services.get_service(session, actor=actor, service_id=service_id)
    return list(
        await session.scalars(
            sa.select(MaintenanceWindow)
            .where(MaintenanceWindow.service_id == service_id)
            .order_by(MaintenanceWindow.starts_at, MaintenanceWindow.id)
        )
    )


async def maintenance_windows_for(
    session: AsyncSession, service_id: uuid.UUID
) -> list[maintenance.Window]:
    """The service's windows as the pure rules take them: the escalation engine's interface.

    Trusted, no actor. Pass the result to ``domain.maintenance.active_until(windows, now)``
    to learn whether, and until when, the service's escalations wait. Every window was
    validated by ``maintenance.problem_with`` when written, so evaluating it is cheap.
    """
    rows = await session.execute(
        sa.select(
            MaintenanceWindow.starts_at,
            MaintenanceWindow.ends_at,
            MaintenanceWindow.recurrence,
            MaintenanceWindow.time_zone,
        )
        .where(MaintenanceWindow.service_id == service_id)
        .order_by(MaintenanceWindow.starts_at, MaintenanceWindow.id)
    )
    return [
        maintenance.Window(
            starts_at=starts_at, ends_at=ends_at, recurrence=recurrence, time_zone=time_zone
        )
        for starts_at, ends_at, recurrence, time_zone in rows
    ]


class Holds:
    """Until when each service's escalations and sends wait, if they wait at ``now``: its
    windows read once per service for all the work of one engine transaction (the
    escalation step and the claim of its sends share one)."""

    def __init__(self, session: AsyncSession, now: datetime) -> None:
        self.session = session
        self.now = now
        self._until: dict[uuid.UUID, datetime | None] = {}

    async def until(self, service_id: uuid.UUID) -> datetime | None:
        if service_id not in self._until:
            windows = await maintenance_windows_for(self.session, service_id)
            self._until[service_id] = maintenance.active_until(windows, self.now)
        return self._until[service_id]


def _description(text: str) -> str:
    cleaned = " ".join(text.split())
    if len(cleaned) > 500:
        raise InvalidInput("description", "a description has at most 500 characters")
    return cleaned


def _details(row: MaintenanceWindow) -> dict[str, object]:
    return {
        "window_id": str(row.id),
        "starts_at": row.starts_at.isoformat(),
        "ends_at": row.ends_at.isoformat(),
        "recurrence": row.recurrence,
        "time_zone": row.time_zone,
        "description": row.description,
    }
