"""Dispatch module: turn every new page into deliveries, by the paged person's rules.

Owns ``page.dispatched_at`` (the queue is the pages where it is null). Each tick claims a
batch of undispatched pages with ``FOR UPDATE SKIP LOCKED`` and applies
``actions.dispatch.dispatch_due`` to them in one transaction, which marks each page with a
conditional UPDATE and writes its deliveries under a unique (page, contact method)
constraint: a duplicate run dispatches nothing twice. Runs right after the escalation
module, so a page is dispatched in the tick that wrote it; pages written elsewhere (an
incident escalated by hand) wake the engine with a NOTIFY.
"""

from __future__ import annotations

from datetime import datetime

from tocsin.actions.notify import dispatch, tiers
from tocsin.db.session import Database
from tocsin.engine.modules import TickReport
from tocsin.metrics import Metrics
from tocsin.notify.notifier import Notifier


class DispatchModule:
    name = "dispatch"

    def __init__(self, notifier: Notifier, metrics: Metrics) -> None:
        self.notifier = notifier
        self.metrics = metrics
        # When pages are next due, read in the last tick's transaction: the engine sleeps
        # on it without a transaction of its own. New pages wake it (NOTIFY) anyway.
        self._next: datetime | None = None

    async def tick(self, database: Database, now: datetime, *, batch_size: int) -> TickReport:
        outcomes = tiers.Outcomes()
        async with database.transaction() as session:
            done = await dispatch.dispatch_due(
                session,
                limit=batch_size,
                policy=self.notifier.dispatch,
                ops=self.notifier.send.ops,
                now=now,
                outcomes=outcomes,
            )
            self._next = await dispatch.next_due(session)
        self.metrics.notification_unreachable.inc(outcomes.unreachable)
        self.metrics.operations_incidents.inc(outcomes.ops_incidents)
        return TickReport(
            self.name,
            claimed=done.claimed,
            applied=done.applied,
            failed=done.failed,
            more=done.claimed == batch_size,
        )

    async def next_due(self, database: Database) -> datetime | None:
        return self._next
