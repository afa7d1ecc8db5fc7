"""Reopen module: acknowledged incidents whose acknowledgement timed out or snooze ended.

Owns ``incident.reopen_at``. Each claimed incident goes back to triggered and escalates
from level 1 at once (``actions.incidents.reopen_due``: a conditional UPDATE from
acknowledged, so an incident resolved meanwhile is left alone).
"""

from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa

from tocsin.actions.incidents import incidents
from tocsin.db.models.incidents import Incident
from tocsin.db.session import Database
from tocsin.domain.incidents import IncidentStatus
from tocsin.engine import claims
from tocsin.engine.modules import TickReport, apply_each

RETRY_AFTER_FAILURE = timedelta(seconds=30)
_DUE = (Incident.status == IncidentStatus.ACKNOWLEDGED,)


class ReopenModule:
    name = "reopens"

    async def tick(self, database: Database, now: datetime, *, batch_size: int) -> TickReport:
        report = TickReport(self.name)
        async with database.transaction() as session:
            due = await claims.claim_due(
                session, Incident, Incident.reopen_at, now=now, limit=batch_size, where=_DUE
            )
            report.claimed = len(due)
            report.more = len(due) == batch_size

            async def reopen(incident: Incident) -> bool:
                return await incidents.reopen_due(session, incident=incident, now=now)

            async def later(incident: Incident) -> None:
                await session.execute(
                    sa.update(Incident)
                    .where(
                        Incident.id == incident.id, Incident.status == IncidentStatus.ACKNOWLEDGED
                    )
                    .values(reopen_at=now + RETRY_AFTER_FAILURE)
                    .execution_options(synchronize_session=False)
                )

            await apply_each(session, due, reopen, report, on_failure=later)
        return report

    async def next_due(self, database: Database) -> datetime | None:
        async with database.transaction() as session:
            return await claims.earliest(session, Incident.reopen_at, *_DUE)
