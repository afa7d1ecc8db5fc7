"""Dispatch module: turn every new page into deliveries, by the paged person's rules.

Owns ``page.dispatched_at`` (the queue is the pages where it is null). Claims undispatched
pages with ``FOR UPDATE SKIP LOCKED`` and applies ``actions.dispatch.dispatch_page`` to
each, which marks the page with a conditional UPDATE and writes its deliveries under a
unique (page, contact method) constraint: a duplicate run dispatches nothing twice. Runs
right after the escalation module, so a page is dispatched in the tick that wrote it.
"""

from __future__ import annotations

from datetime import datetime

from tocsin.actions import delivery_tiers, dispatch
from tocsin.db.models.incidents import Page
from tocsin.db.session import Database
from tocsin.engine import claims
from tocsin.engine.modules import TickReport, apply_each
from tocsin.metrics import Metrics
from tocsin.notify.notifier import Notifier

_DUE = (Page.dispatched_at.is_(None),)


class DispatchModule:
    name = "dispatch"

    def __init__(self, notifier: Notifier, metrics: Metrics) -> None:
        self.notifier = notifier
        self.metrics = metrics

    async def tick(self, database: Database, now: datetime, *, batch_size: int) -> TickReport:
        report = TickReport(self.name)
        outcomes = delivery_tiers.Outcomes()
        async with database.transaction() as session:
            pages = await claims.claim_due(
                session, Page, Page.created_at, now=now, limit=batch_size, where=_DUE
            )
            report.claimed = len(pages)
            report.more = len(pages) == batch_size

            async def step(page: Page) -> bool:
                return await dispatch.dispatch_page(
                    session,
                    page,
                    policy=self.notifier.dispatch,
                    ops=self.notifier.send.ops,
                    now=now,
                    outcomes=outcomes,
                )

            await apply_each(session, pages, step, report, on_failure=_stays_due)
        self.metrics.notification_unreachable.inc(outcomes.unreachable)
        self.metrics.operations_incidents.inc(outcomes.ops_incidents)
        return report

    async def next_due(self, database: Database) -> datetime | None:
        async with database.transaction() as session:
            return await claims.earliest(session, Page.created_at, *_DUE)


async def _stays_due(page: Page) -> None:
    """Nothing to move: a page that failed to dispatch is still undispatched, so it is due
    again next tick (``apply_each`` has logged and counted the failure)."""
