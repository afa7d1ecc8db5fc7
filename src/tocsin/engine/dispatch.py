"""Dispatch module: turn every new page into deliveries, by the paged person's rules, and
claim the ones due now for sending in the same transaction.

Owns ``page.dispatched_at`` (the queue is the pages where it is null). Each tick claims a
batch of undispatched pages with ``FOR UPDATE SKIP LOCKED`` and applies
``actions.dispatch.dispatch_due`` to them in one transaction, which marks each page with a
conditional UPDATE and writes its deliveries under a unique (page, contact method)
constraint: a duplicate run dispatches nothing twice.

Every wait between lanes is added to a page's latency, so a new page waits for none: the
escalation module dispatches the pages it writes in its own transaction (``dispatch_in``),
and the deliveries due now are claimed there too by the delivery module
(``DeliveryModule.claim_for``) and sent when it commits. Each hand-over saves a NOTIFY, a
wake-up and a claim transaction of the next lane: under 50 alerts/s on two cores, about
25 ms at the median and 60-140 ms at the 99th percentile each (docs/benchmarks.md).
This lane's own tick dispatches the pages written elsewhere (an incident escalated by
hand, a page left by a failure), which wake it with a NOTIFY.

Each hand-over runs in a savepoint: if dispatching or claiming fails, what came before
(the escalation step, the dispatch) still commits, and the next lane is woken to do the
rest on its own, as it would have without the hand-over.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from tocsin.actions.notify import dispatch, tiers
from tocsin.actions.notify.deliveries import Claim
from tocsin.actions.services import maintenance
from tocsin.actions.wake import wake_engine
from tocsin.db.session import Database
from tocsin.engine.deliveries import DeliveryModule
from tocsin.engine.modules import TickReport
from tocsin.metrics import Metrics
from tocsin.notify.notifier import Notifier

log = structlog.get_logger(__name__)


class DispatchModule:
    name = "dispatch"

    def __init__(
        self, notifier: Notifier, metrics: Metrics, *, senders: DeliveryModule | None = None
    ) -> None:
        self.notifier = notifier
        self.metrics = metrics
        # The delivery module that sends what this one dispatches (None: its lane claims
        # the deliveries after a NOTIFY).
        self.senders = senders
        # When pages are next due, read in the last dispatch's transaction: the engine
        # sleeps on it without a transaction of its own. New pages wake it (NOTIFY) anyway.
        self._next: datetime | None = None
        # Set by the engine loop: this module's lane wake-up.
        self.wake: Callable[[], None] | None = None

    async def tick(self, database: Database, now: datetime, *, batch_size: int) -> TickReport:
        outcomes = tiers.Outcomes()
        claim: Claim | None = None
        async with database.transaction() as session:
            done = await self._dispatch(session, now, limit=batch_size, outcomes=outcomes)
            self._next = await dispatch.next_due(session)
            if self.senders is not None and done.applied:
                # Claiming is the delivery module's work: if it fails, the dispatch still
                # commits and that module's lane claims the deliveries.
                try:
                    async with session.begin_nested():
                        claim = await self._claim(session, now, limit=batch_size, outcomes=outcomes)
                except Exception:
                    log.exception("claiming deliveries where they were written failed")
                    await wake_engine(session, self.senders.name)
        await self.after_commit(database, claim, outcomes, now)
        return TickReport(
            self.name,
            claimed=done.claimed,
            applied=done.applied,
            failed=done.failed,
            more=done.claimed == batch_size,
        )

    async def next_due(self, database: Database) -> datetime | None:
        return self._next

    async def dispatch_in(
        self,
        session: AsyncSession,
        now: datetime,
        *,
        limit: int,
        outcomes: tiers.Outcomes,
        holds: maintenance.Holds | None = None,
    ) -> Claim | None:
        """Dispatch the pages the caller has just written, in its transaction, and claim
        their deliveries due now (``holds``: the caller's maintenance lookups, reused);
        ``after_commit`` sends them. Both in one savepoint: if
        either fails, the caller's work still commits and this lane is woken to dispatch
        (and claim) on its own."""
        try:
            async with session.begin_nested():
                done = await self._dispatch(session, now, limit=limit, outcomes=outcomes)
                claim = (
                    await self._claim(session, now, limit=limit, outcomes=outcomes, holds=holds)
                    if done.applied
                    else None
                )
        except Exception:
            log.exception("dispatching pages where they were written failed; the lane will")
            await wake_engine(session, self.name)
            return None
        if done.claimed == limit and self.wake is not None:
            self.wake()  # more pages than one batch: this lane takes the rest
        return claim

    async def after_commit(
        self, database: Database, claim: Claim | None, outcomes: tiers.Outcomes, now: datetime
    ) -> None:
        """Once the transaction of ``dispatch_in`` (or of a tick) has committed: count its
        outcomes and start the sends it claimed."""
        self.metrics.notification_unreachable.inc(outcomes.unreachable)
        self.metrics.operations_incidents.inc(outcomes.ops_incidents)
        if claim is not None and self.senders is not None:
            await self.senders.start(database, claim, now)

    async def _dispatch(
        self, session: AsyncSession, now: datetime, *, limit: int, outcomes: tiers.Outcomes
    ) -> dispatch.Dispatched:
        return await dispatch.dispatch_due(
            session,
            limit=limit,
            policy=self.notifier.dispatch,
            ops=self.notifier.send.ops,
            now=now,
            outcomes=outcomes,
            # Woken only when nobody here claims what it writes.
            wake_senders=self.senders is None,
        )

    async def _claim(
        self,
        session: AsyncSession,
        now: datetime,
        *,
        limit: int,
        outcomes: tiers.Outcomes,
        holds: maintenance.Holds | None = None,
    ) -> Claim | None:
        if self.senders is None:
            return None
        return await self.senders.claim_for(
            session, now, limit=limit, outcomes=outcomes, holds=holds
        )
