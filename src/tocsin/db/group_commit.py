"""Group commit: units of work that arrive together share one transaction.

Intake's hot path is thousands of tiny transactions a second (count a repeat, or open an
incident, and log the request). On a 2-core machine their fixed cost dominates: BEGIN and
COMMIT round trips, a pool checkout, a WAL flush each. ``GroupCommit.run`` queues a unit
of work; a lane takes everything queued (up to ``max_batch``), runs it in one raw
transaction, commits once, and only then answers every caller. While a lane is busy the
next requests queue up, so batches grow with load and stay single under light load: no
request ever waits for a batch to fill.

The answers keep the meaning of one transaction per request:

* nothing is answered before the commit that made it durable;
* if a unit raises, the whole batch rolls back: that unit's caller gets the error (its
  writes were undone, exactly as if its own transaction had failed), and every other unit
  runs again alone, in a transaction of its own, so one bad unit never fails its
  neighbours. If the commit itself fails, every unit runs again alone;
* if the database is unreachable, every unit of the batch, and every unit queued behind
  it, gets that error at once (a 503 for its request): running them again would make
  each wait for a connection again, holding requests past their senders' timeouts;
* units run in the order of their ``order`` key, so two batches (in one process or two)
  take the row and advisory locks of the same keys in the same order and do not deadlock
  on each other; a deadlock with other work is still possible and is handled as a failure
  above (the caller's retry runs it again).

A unit must therefore be safe to run again when its first run rolled back, as any retried
transaction must be.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

import structlog

from tocsin.db.availability import is_unavailable
from tocsin.db.executors import OnConnection
from tocsin.db.session import Database

log = structlog.get_logger(__name__)

T = TypeVar("T")
Work = Callable[[OnConnection], Awaitable[T]]


@dataclass
class _Unit(Generic[T]):
    work: Work[T]
    order: tuple[str, ...]
    answer: asyncio.Future[T] = field(
        default_factory=lambda: asyncio.get_running_loop().create_future()
    )


class GroupCommit:
    def __init__(self, database: Database, *, max_batch: int = 64, lanes: int = 2) -> None:
        self._database = database
        self._max_batch = max_batch
        self._lanes = lanes
        self._queue: deque[_Unit[Any]] = deque()
        self._busy_lanes = 0
        # Strong references: the loop only keeps weak ones to running tasks.
        self._tasks: set[asyncio.Task[None]] = set()

    async def run(self, work: Work[T], *, order: tuple[str, ...]) -> T:
        """Run ``work`` in a transaction shared with whatever else is queued; its result
        once that transaction has committed."""
        unit: _Unit[T] = _Unit(work, order)
        self._queue.append(unit)
        if self._busy_lanes < self._lanes:
            self._busy_lanes += 1
            task = asyncio.create_task(self._lane(), name="group-commit lane")
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        return await unit.answer

    async def _lane(self) -> None:
        try:
            while self._queue:
                batch: list[_Unit[Any]] = []
                while self._queue and len(batch) < self._max_batch:
                    unit = self._queue.popleft()
                    # A caller that went away before its turn (a cancelled request) has
                    # nobody to answer; its work is not started.
                    if not unit.answer.cancelled():
                        batch.append(unit)
                if batch:
                    await self._run(sorted(batch, key=lambda unit: unit.order))
        finally:
            self._busy_lanes -= 1

    async def _run(self, batch: list[_Unit[Any]]) -> None:
        try:
            results = await self._transaction(batch)
        except asyncio.CancelledError:
            for unit in batch:
                unit.answer.cancel()
            raise
        except _UnitFailed as failed:
            if is_unavailable(failed.error):
                self._unavailable(batch, failed.error)
                return
            _settle(failed.unit, error=failed.error)
            others = [unit for unit in batch if unit is not failed.unit]
            await self._alone(others)
            return
        except Exception as error:
            if is_unavailable(error):
                self._unavailable(batch, error)
                return
            if len(batch) == 1:
                _settle(batch[0], error=error)
                return
            await self._alone(batch)
            return
        for unit, result in zip(batch, results, strict=True):
            _settle(unit, result=result)

    def _unavailable(self, batch: list[_Unit[Any]], error: BaseException) -> None:
        """The database could not be reached: the batch and everything queued behind it
        are answered now (a 503 their senders retry). Running them again, alone or in
        the next batch, would make each wait for a connection once more, holding
        requests past their senders' timeouts."""
        waiting = list(self._queue)
        self._queue.clear()
        for unit in [*batch, *waiting]:
            _settle(unit, error=error)

    async def _alone(self, units: list[_Unit[Any]]) -> None:
        if units:
            log.info("group commit rolled back; running its units alone", units=len(units))
            await asyncio.gather(*(self._run([unit]) for unit in units))

    async def _transaction(self, batch: list[_Unit[Any]]) -> list[Any]:
        async with self._database.raw_transaction() as connection:
            executor = OnConnection(connection)
            results = []
            for unit in batch:
                try:
                    results.append(await unit.work(executor))
                except Exception as error:
                    raise _UnitFailed(unit, error) from error
            return results


class _UnitFailed(Exception):
    """``unit`` raised ``error``; the shared transaction rolls back."""

    def __init__(self, unit: _Unit[Any], error: Exception) -> None:
        super().__init__(unit, error)
        self.unit = unit
        self.error = error


def _settle(unit: _Unit[Any], *, result: Any = None, error: BaseException | None = None) -> None:
    if unit.answer.done():  # the caller was cancelled meanwhile
        return
    if error is not None:
        unit.answer.set_exception(error)
    else:
        unit.answer.set_result(result)
