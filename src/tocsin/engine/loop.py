"""The engine loop: run every module whenever there may be work.

Each module runs in a lane of its own (``run``), so a busy module (a burst of mail to
send) never delays another's timers (the next escalation step). ``tick`` runs every module
once, in a fixed order: that is what tests call, with a frozen clock.

Work is found three ways: a NOTIFY on ``tocsin_engine`` (sent by any transaction that
creates due work, delivered when it commits; its payload names the modules with new
work, ``escalations`` for a new incident, ``dispatch`` for pages, ``deliveries`` for
messages, and an empty one wakes them all; the pages an escalation step writes are
dispatched and their sends claimed in its own transaction instead,
``engine/dispatch.py``), the earliest due time the module reports (so timers fire on
time), and a poll every few seconds as a fallback (for a lost listen connection, or a
clock that jumped). Each module runs with a timeout, its failures are isolated, logged
and counted, and serialization failures or deadlocks (SQLSTATE 40001, 40P01) are
retried: a module that fails runs again after a growing pause. While the database is
unreachable nothing is retried blindly and nothing is logged per attempt: the lanes wait
for the database (``db/availability.py`` logs the outage once and probes), and all run
the moment it is back, so timers that came due meanwhile fire at once, in order.

Any number of engines may run against one database (``tocsin serve`` on several hosts,
``tocsin worker``): claims use ``SKIP LOCKED`` and every step is a conditional UPDATE, so
they share the work and never apply the same step twice.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from typing import Any

import structlog
from sqlalchemy.exc import DBAPIError

from tocsin.actions.wake import WAKE_CHANNEL
from tocsin.clock import Clock
from tocsin.db import listening
from tocsin.db.availability import backoff
from tocsin.db.session import Database
from tocsin.engine import follow_ups
from tocsin.engine.auto_resolve import AutoResolveModule
from tocsin.engine.deliveries import DeliveryModule
from tocsin.engine.dispatch import DispatchModule
from tocsin.engine.escalations import EscalationModule
from tocsin.engine.heartbeats import HeartbeatModule
from tocsin.engine.modules import Module, TickReport
from tocsin.engine.reopens import ReopenModule
from tocsin.engine.shift_notices import ShiftModule
from tocsin.metrics import Metrics
from tocsin.notify.notifier import Notifier

log = structlog.get_logger(__name__)

RETRYABLE_SQLSTATES = frozenset({"40001", "40P01"})
SLOW_TICK = timedelta(seconds=5)

# After a failed tick a lane pauses 1, 2, 4 … up to 60 s (jittered); with the database
# unreachable it waits for the database instead, and runs the moment it is back.
FAILURE_BACKOFF_FIRST = 1.0
FAILURE_BACKOFF_CEILING = 60.0


def default_modules(metrics: Metrics, notifier: Notifier | None = None) -> list[Module]:
    # Order matters within one tick: reopened incidents escalate in the same tick, and a
    # missed heartbeat's new incident is paged by the escalation module right after; the
    # pages it writes (and shift-start notices) are dispatched, and their deliveries sent,
    # in the same tick.
    if notifier is None:
        return [ReopenModule(), HeartbeatModule(), AutoResolveModule(), EscalationModule(metrics)]
    # A page goes from the escalation step to its sends in one transaction: each module
    # hands its work to the next (``engine/dispatch.py``).
    senders = DeliveryModule(notifier, metrics)
    dispatcher = DispatchModule(notifier, metrics, senders=senders)
    modules: list[Module] = [
        ReopenModule(),
        HeartbeatModule(),
        AutoResolveModule(),
        EscalationModule(metrics, dispatcher=dispatcher),
        ShiftModule(notifier),
        dispatcher,
        senders,
    ]
    if follow_ups.posters(notifier) or follow_ups.refreshers(notifier):
        modules.append(follow_ups.FollowUpModule(notifier))
    return modules


def woken_by(payload: str, lanes: Iterable[str]) -> set[str]:
    """The lanes a NOTIFY wakes: those its payload names (comma-separated module names),
    or every lane for an empty payload. A busy system sends a NOTIFY per alert: waking
    every lane for each would run every module's claim, a transaction, for nothing."""
    named = {name for name in payload.split(",") if name}
    return {lane for lane in lanes if not named or lane in named}


class Engine:
    def __init__(
        self,
        database: Database,
        clock: Clock,
        metrics: Metrics,
        *,
        modules: Sequence[Module] | None = None,
        batch_size: int = 200,
        poll_interval: timedelta = timedelta(seconds=5),
        module_timeout: timedelta = timedelta(seconds=30),
        notifier: Notifier | None = None,
    ) -> None:
        self.database = database
        self.clock = clock
        self.metrics = metrics
        # Without a notifier the engine escalates but sends nothing (tests of escalation
        # alone); ``tocsin serve`` and ``tocsin worker`` always pass one.
        self.modules = list(modules) if modules is not None else default_modules(metrics, notifier)
        self.batch_size = batch_size
        self.poll_interval = poll_interval
        self.module_timeout = module_timeout
        # Each lane's wake-up, by module name (``_listen`` sets those a NOTIFY names).
        self._wakes: dict[str, asyncio.Event] = {}

    async def tick(self) -> list[TickReport]:
        """Run every module once, at the clock's current time."""
        now = self.clock.now()
        return [await self._run(module, now) for module in self.modules]

    async def run(self, stopping: asyncio.Event) -> None:
        """Run every module's lane until ``stopping`` is set."""
        listener = asyncio.create_task(self._listen(), name="engine-listen")
        lanes = [
            asyncio.create_task(self._lane(module, stopping), name=f"engine-{module.name}")
            for module in self.modules
        ]
        log.info("engine started", modules=[module.name for module in self.modules])
        try:
            await asyncio.gather(*lanes)
        finally:
            for task in [listener, *lanes]:
                task.cancel()
            await asyncio.gather(listener, *lanes, return_exceptions=True)
            # Sends in flight finish and are recorded: stopping here would leave them to
            # lease recovery, which re-sends mail that was in fact delivered.
            await asyncio.gather(
                *(m.drain() for m in self.modules if isinstance(m, DeliveryModule)),
                return_exceptions=True,
            )
            log.info("engine stopped")

    async def _run(self, module: Module, now: datetime) -> TickReport:
        started = time.monotonic()
        for attempt in range(3):
            try:
                report = await asyncio.wait_for(
                    module.tick(self.database, now, batch_size=self.batch_size),
                    self.module_timeout.total_seconds(),
                )
            except DBAPIError as error:
                sqlstate = getattr(error.orig, "sqlstate", None)
                if sqlstate in RETRYABLE_SQLSTATES and attempt < 2:
                    continue
                return self._failed(module, error)
            except Exception as error:
                return self._failed(module, error)
            else:
                self._observe(module, report, time.monotonic() - started)
                return report
        raise AssertionError("unreachable")

    def _failed(self, module: Module, error: BaseException) -> TickReport:
        self.metrics.engine_errors.labels(module.name).inc()
        # An unreachable database is logged once per outage, by the database itself.
        if not self.database.availability.failed(error):
            log.error("engine module failed", module=module.name, error=repr(error), exc_info=error)
        return TickReport(module.name, failed=1, error=error)

    def _observe(self, module: Module, report: TickReport, seconds: float) -> None:
        self.metrics.engine_tick.labels(module.name).observe(seconds)
        for outcome in ("applied", "skipped", "failed"):
            count = getattr(report, outcome)
            if count:
                self.metrics.engine_rows.labels(module.name, outcome).inc(count)

    async def _lane(self, module: Module, stopping: asyncio.Event) -> None:
        """One module, ticked while it has work, asleep until its next due time or a
        NOTIFY otherwise, and backing off after a failure."""
        wake = asyncio.Event()
        self._wakes[module.name] = wake
        if isinstance(module, DeliveryModule | DispatchModule):
            # Its own lane only: when sends make room after it was full, an outcome made a
            # row due again, or another lane handed it work it left, it looks at once.
            module.wake = wake.set
        failures = 0
        while not stopping.is_set():
            wake.clear()
            started = time.monotonic()
            report = await self._run(module, self.clock.now())
            elapsed = time.monotonic() - started
            if elapsed > SLOW_TICK.total_seconds():
                log.warning("slow engine module", module=module.name, seconds=round(elapsed, 2))
            if report.error is not None:
                failures += 1
                await self._back_off(failures, stopping)
                continue
            failures = 0
            if report.more:
                continue
            await self._sleep(module, wake, stopping)

    async def _back_off(self, failures: int, stopping: asyncio.Event) -> None:
        """After a failed tick: with the database unreachable, until it is back (its
        prober says so, and every lane runs at once: timers that came due meanwhile fire
        in due order); otherwise a growing, jittered pause, so that a module failing on
        every tick costs a line now and then instead of a traceback a millisecond."""
        delay = backoff(failures - 1, first=FAILURE_BACKOFF_FIRST, ceiling=FAILURE_BACKOFF_CEILING)
        availability = self.database.availability
        waiters: list[asyncio.Future[Any]] = [asyncio.ensure_future(stopping.wait())]
        if not availability.up:
            waiters.append(asyncio.ensure_future(availability.wait_until_up(delay)))
        await _first_of(waiters, seconds=delay)

    async def _sleep(self, module: Module, wake: asyncio.Event, stopping: asyncio.Event) -> None:
        delay = self.poll_interval.total_seconds()
        try:
            due = await module.next_due(self.database)
        except Exception as error:
            if not self.database.availability.failed(error):
                log.warning(
                    "could not read the next due time", module=module.name, error=repr(error)
                )
            due = None
        if due is not None:
            delay = min(delay, max(0.0, (due - self.clock.now()).total_seconds()))
        if delay <= 0:
            return
        waiters = [asyncio.ensure_future(wake.wait()), asyncio.ensure_future(stopping.wait())]
        await _first_of(waiters, seconds=delay)

    def _wake(self, payload: str = "") -> None:
        for name in woken_by(payload, self._wakes):
            self._wakes[name].set()

    async def _listen(self) -> None:
        """LISTEN on a connection of its own (``db/listening.py``); without it the lanes
        still poll every ``poll_interval``."""
        await listening.listen_forever(
            self.database,
            WAKE_CHANNEL,
            # Work may have been created while nothing was listening.
            on_listening=self._wake,
            on_notify=self._wake,
            name="engine",
        )


async def _first_of(waiters: Sequence[asyncio.Future[Any]], *, seconds: float) -> None:
    """Wait until one of ``waiters`` finishes or ``seconds`` pass; cancel the rest."""
    try:
        await asyncio.wait(waiters, timeout=seconds, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for waiter in waiters:
            waiter.cancel()
