"""Shift module: tell people who opted in that their on-call shift has started.

Owns ``notify_cursor['shift_start']`` (see ``actions.shift_notices``, which keeps it
exactly once per person per shift start: the cursor is locked while it moves, and every
notice is unique by schedule, instant and method). Shift starts are computed from the
schedules' rules, which costs more than a claim, so a tick only looks when a shift start
it knows of has come or a minute has passed (an edited schedule is noticed within that
minute); ``next_due`` is that moment, kept in memory, so the loop sleeps until it. The
notices are deliveries, sent by the delivery module in the same tick.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from tocsin.actions.notify import shift_notices
from tocsin.db.session import Database
from tocsin.engine.modules import TickReport
from tocsin.notify.notifier import Notifier

RESCAN = timedelta(minutes=1)


class ShiftModule:
    name = "shift_notices"

    def __init__(self, notifier: Notifier) -> None:
        self.notifier = notifier
        self._due: datetime | None = None

    async def tick(self, database: Database, now: datetime, *, batch_size: int) -> TickReport:
        if self._due is not None and now < self._due:
            return TickReport(self.name)
        async with database.transaction() as session:
            done = await shift_notices.announce_due(
                session, now=now, deliverable=self.notifier.send.deliverable
            )
        self._due = min(now + RESCAN, done.next_start or now + RESCAN)
        return TickReport(self.name, claimed=done.shift_starts, applied=done.deliveries)

    async def next_due(self, database: Database) -> datetime | None:
        return self._due
