"""What every engine module implements (GoAlert's "processing module" shape).

A module owns some due-time columns. ``tick(now)`` claims due rows (``claims.claim_due``),
decides with pure rules from ``domain/``, and applies the result with conditional UPDATEs
in the same transaction; it reports what it did. ``next_due()`` tells the loop when the
module will next have work, so that timers fire on time without tight polling.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol, TypeVar

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from tocsin.db.availability import is_unavailable
from tocsin.db.session import Database

T = TypeVar("T")

log = structlog.get_logger(__name__)


@dataclass
class TickReport:
    module: str
    claimed: int = 0
    applied: int = 0
    skipped: int = 0
    failed: int = 0
    # The batch was full: there may be more due work right now.
    more: bool = False
    # The tick failed as a whole (nothing of it committed); the loop backs off.
    error: BaseException | None = None


class Module(Protocol):
    name: str

    async def tick(self, database: Database, now: datetime, *, batch_size: int) -> TickReport: ...

    async def next_due(self, database: Database) -> datetime | None: ...


async def apply_each(
    session: AsyncSession,
    rows: Sequence[T],
    apply: Callable[[T], Awaitable[bool]],
    report: TickReport,
    *,
    on_failure: Callable[[T], Awaitable[None]],
    together: bool = False,
) -> None:
    """Apply ``apply`` to each claimed row inside its own savepoint.

    One row that fails (a bug, bad data) is rolled back alone, logged, counted and given
    ``on_failure`` (typically: retry it a little later); the rest of the batch commits.
    ``apply`` returns False when the row turned out to need nothing (a stale claim).

    ``together``: first try the whole batch in one savepoint, and only if a row fails
    roll it back and go row by row as above. A savepoint costs two round trips (SAVEPOINT,
    RELEASE), as many as a whole escalation step, so this is what makes a storm of new
    incidents escalate about 40% faster. Only for an ``apply`` that may run twice on a
    row: it must write through SQL statements only (a rolled-back savepoint expires the
    loaded ORM objects it changed) and have no other effects.
    """
    if together:
        outcomes = await _all_in_one_savepoint(session, rows, apply)
        if outcomes is not None:
            for applied in outcomes:
                _count(report, applied)
            return
    for row in rows:
        try:
            async with session.begin_nested():
                applied = await apply(row)
        except Exception as error:
            if is_unavailable(error):
                raise  # not this row's fault: the whole tick fails, and the loop waits
            log.exception("engine step failed", module=report.module)
            report.failed += 1
            await on_failure(row)
            continue
        _count(report, applied)


async def _all_in_one_savepoint(
    session: AsyncSession, rows: Sequence[T], apply: Callable[[T], Awaitable[bool]]
) -> list[bool] | None:
    """What ``apply`` said of each row, or None when one failed and nothing was kept."""
    try:
        async with session.begin_nested():
            return [await apply(row) for row in rows]
    except Exception as error:
        if is_unavailable(error):
            raise  # the connection is gone: no row can be tried alone either
        # Logged when the row fails again on its own.
        return None


def _count(report: TickReport, applied: bool) -> None:
    if applied:
        report.applied += 1
    else:
        report.skipped += 1
