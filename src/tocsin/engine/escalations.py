"""Escalation module: page the next level of every triggered incident that is due.

Owns ``incident.next_escalation_at`` (and ``held_until``). Claims due triggered incidents
with ``FOR UPDATE SKIP LOCKED``; for each, either holds it (its service is in maintenance:
the due time moves to the window's end, noted once on the timeline) or applies the next
step through ``actions.escalations.advance``, which writes the pages and the next due time
with a conditional UPDATE on the escalation token. A duplicate run is harmless: a second
engine cannot claim a locked row, and a stale step matches no row. A crash rolls the whole
batch back; the rows are due again.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from tocsin.actions import audit
from tocsin.actions.escalation import steps
from tocsin.actions.escalation.targets import TargetResolver
from tocsin.actions.notify import tiers
from tocsin.actions.notify.deliveries import Claim
from tocsin.actions.services import maintenance
from tocsin.db.models.incidents import Incident, kept_version
from tocsin.db.session import Database
from tocsin.domain.incidents import IncidentStatus
from tocsin.engine import claims
from tocsin.engine.dispatch import DispatchModule
from tocsin.engine.modules import TickReport, apply_each
from tocsin.metrics import Metrics

RETRY_AFTER_FAILURE = timedelta(seconds=30)
_DUE = (Incident.status == IncidentStatus.TRIGGERED,)


class EscalationModule:
    name = "escalations"

    def __init__(self, metrics: Metrics, *, dispatcher: DispatchModule | None = None) -> None:
        self.metrics = metrics
        # Dispatches the pages each tick writes, in its transaction (``engine/dispatch.py``);
        # None (an engine that sends nothing): the pages wake the dispatch lanes.
        self.dispatcher = dispatcher
        # When an incident is next due, read in the last tick's transaction, so that the
        # lane sleeps on it without a transaction of its own after every tick. Whatever
        # makes an incident due sooner wakes the lane (a NOTIFY), which reads it again.
        self._next: datetime | None = None
        self._read_next = False

    async def tick(self, database: Database, now: datetime, *, batch_size: int) -> TickReport:
        report = TickReport(self.name)
        outcomes = tiers.Outcomes()
        claim: Claim | None = None
        async with database.transaction() as session:
            due = await claims.claim_due(
                session,
                Incident,
                Incident.next_escalation_at,
                now=now,
                limit=batch_size,
                where=_DUE,
            )
            report.claimed = len(due)
            report.more = len(due) == batch_size
            await steps.freeze_policies(session, due)
            holds = maintenance.Holds(session, now)
            targets = TargetResolver(now)
            # Observed once the batch is done: a step may run twice (``together``).
            lags: dict[object, float] = {}

            async def step(incident: Incident) -> bool:
                assert incident.next_escalation_at is not None
                until = await holds.until(incident.service_id)
                if until is not None:
                    return await _hold(session, incident, until, now)
                lags[incident.id] = (now - incident.next_escalation_at).total_seconds()
                state = await steps.state_of(session, incident)
                return await steps.advance(
                    session,
                    state,
                    now=now,
                    targets=targets,
                    wake_dispatch=self.dispatcher is None,
                )

            async def later(incident: Incident) -> None:
                await session.execute(
                    sa.update(Incident)
                    .where(Incident.id == incident.id, Incident.status == IncidentStatus.TRIGGERED)
                    .values(next_escalation_at=now + RETRY_AFTER_FAILURE)
                    .execution_options(synchronize_session=False)
                )

            await apply_each(session, due, step, report, on_failure=later, together=True)
            if self.dispatcher is not None and report.applied:
                claim = await self.dispatcher.dispatch_in(
                    session, now, limit=batch_size, outcomes=outcomes, holds=holds
                )
            self._next = await claims.earliest(session, Incident.next_escalation_at, *_DUE)
            self._read_next = True
        if self.dispatcher is not None:
            await self.dispatcher.after_commit(database, claim, outcomes, now)
        for lag in lags.values():
            self.metrics.escalation_lag.observe(lag)
        return report

    async def next_due(self, database: Database) -> datetime | None:
        if not self._read_next:  # the last tick failed before reading it
            async with database.transaction() as session:
                self._next = await claims.earliest(session, Incident.next_escalation_at, *_DUE)
        self._read_next = False
        return self._next


async def _hold(session: AsyncSession, incident: Incident, until: datetime, now: datetime) -> bool:
    """Escalation waits for the end of maintenance; the timeline says so once per window."""
    # Read before the UPDATE: an ORM UPDATE synchronises the loaded object, after which
    # ``incident.held_until`` would always equal ``until`` and the hold would never be noted.
    noted_until = incident.held_until
    held = await session.execute(
        sa.update(Incident)
        .where(
            Incident.id == incident.id,
            Incident.escalation_token == incident.escalation_token,
            Incident.status == IncidentStatus.TRIGGERED,
        )
        .values(next_escalation_at=until, held_until=until, updated_at=kept_version(now))
        .execution_options(synchronize_session=False)
    )
    if not held.rowcount:  # type: ignore[attr-defined]
        return False
    if noted_until != until:
        await audit.record(
            session,
            actor=steps.ENGINE,
            action="escalation.held",
            resource_type="incident",
            resource_id=incident.id,
            team_id=incident.team_id,
            now=now,
            details={"reason": "the service is in maintenance", "until": until.isoformat()},
        )
    return True
