"""Auto-resolve module: open incidents that received no alert for the service's
``auto_resolve_hours`` are resolved by the engine (the timeline says why).

Due time is derived (``last_alert_at + auto_resolve_hours``), not stored, so changing a
service's setting applies to its open incidents at once. Because it cannot be pushed back,
an incident whose resolution failed is remembered and left alone for a while, so a bad row
cannot make the loop spin.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

import sqlalchemy as sa

from tocsin.actions.escalation.steps import ENGINE
from tocsin.actions.incidents import incidents
from tocsin.db.models.incidents import Incident
from tocsin.db.models.services import Service
from tocsin.db.session import Database
from tocsin.domain.incidents import IncidentStatus
from tocsin.engine.modules import TickReport, apply_each

RETRY_AFTER_FAILURE = timedelta(seconds=30)

_IDLE_UNTIL = Incident.last_alert_at + sa.func.make_interval(0, 0, 0, 0, Service.auto_resolve_hours)


def _open_with_auto_resolve(excluded: set[uuid.UUID]) -> list[sa.ColumnElement[bool]]:
    conditions = [
        Incident.status != IncidentStatus.RESOLVED,
        Service.auto_resolve_hours.is_not(None),
    ]
    if excluded:
        conditions.append(Incident.id.not_in(excluded))
    return conditions


class AutoResolveModule:
    name = "auto_resolve"

    def __init__(self) -> None:
        self._failing: dict[uuid.UUID, datetime] = {}

    def _excluded(self, now: datetime) -> set[uuid.UUID]:
        self._failing = {key: until for key, until in self._failing.items() if until > now}
        return set(self._failing)

    async def tick(self, database: Database, now: datetime, *, batch_size: int) -> TickReport:
        report = TickReport(self.name)
        async with database.transaction() as session:
            due = list(
                (
                    await session.scalars(
                        sa.select(Incident)
                        .join(Service, Service.id == Incident.service_id)
                        .where(*_open_with_auto_resolve(self._excluded(now)), now >= _IDLE_UNTIL)
                        .order_by(Incident.last_alert_at)
                        .limit(batch_size)
                        .with_for_update(of=Incident, skip_locked=True, key_share=True)
                        .execution_options(populate_existing=True)
                    )
                ).all()
            )
            report.claimed = len(due)
            report.more = len(due) == batch_size

            async def resolve(incident: Incident) -> bool:
                await incidents.resolve(
                    session,
                    incident_id=incident.id,
                    actor=ENGINE,
                    via="auto-resolve",
                    now=now,
                    note="no new alert within the service's auto-resolve time",
                )
                return True

            async def later(incident: Incident) -> None:
                self._failing[incident.id] = now + RETRY_AFTER_FAILURE

            await apply_each(session, due, resolve, report, on_failure=later)
        return report

    async def next_due(self, database: Database) -> datetime | None:
        async with database.transaction() as session:
            value: datetime | None = await session.scalar(
                sa.select(sa.func.min(_IDLE_UNTIL))
                .select_from(Incident)
                .join(Service, Service.id == Incident.service_id)
                .where(*_open_with_auto_resolve(set(self._failing)))
            )
            return value
