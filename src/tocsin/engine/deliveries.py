"""Delivery module: send every due delivery, once, and recover sends whose worker died.

Owns ``delivery.next_attempt_at`` (queued, held, unknown) and ``delivery.lease_until``
(sending). One tick:

1. In one transaction: turn ``sending`` rows whose lease has expired into ``unknown``
   (``actions.deliveries.recover_expired``), then claim a batch of due rows with ``FOR
   UPDATE SKIP LOCKED``, check them and mark the sendable ones ``sending`` with a lease
   (``actions.deliveries.claim_due``). Commit: from here a crash leaves rows the lease
   recovers.
2. Start the provider calls outside any transaction, at most ``notifier.concurrency`` at a
   time (a semaphore), and return: the loop ticks again at once while a batch was full.
3. As calls finish, record their outcomes in batches (``actions.delivery_outcomes.record``):
   one transaction at a time, taking every outcome that finished while the previous one
   was being written, so a burst of mails costs a few transactions, not one per mail.

A duplicate run is harmless: a claimed row is locked, a ``sending`` row is not due, and an
outcome for an attempt that is no longer current matches nothing.

The module never holds more claimed sends than twice its concurrency, so a send never
waits for a slot longer than one provider call: its lease (``notifier.build``) covers the
wait and the call. When more than half of that is in flight it claims nothing and says
it has nothing due, and the send that brings it back to half wakes the engine (``wake``,
set by the engine loop): claims stay batches, not a row or two per transaction.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from datetime import datetime

import structlog

from tocsin.actions.notify import deliveries, tiers
from tocsin.actions.notify import outcomes as delivery_outcomes
from tocsin.actions.services import maintenance
from tocsin.db.session import Database
from tocsin.domain import maintenance as domain_maintenance
from tocsin.domain.deliveries import MAX_ATTEMPTS, Failed, Sent, Unknown
from tocsin.engine.modules import TickReport
from tocsin.metrics import Metrics
from tocsin.notify import sending
from tocsin.notify.notifier import Notifier

log = structlog.get_logger(__name__)


class DeliveryModule:
    name = "deliveries"

    def __init__(
        self, notifier: Notifier, metrics: Metrics, *, wait_for_sends: float = 0.0
    ) -> None:
        self.notifier = notifier
        self.metrics = metrics
        # How long a tick waits for its sends (tests wait for all of them; a running
        # engine does not wait, so a slow mail server never delays the next tick).
        self.wait_for_sends = wait_for_sends
        self.breakers = sending.Breakers()
        self._slots = asyncio.Semaphore(notifier.concurrency)
        self._capacity = 2 * notifier.concurrency
        self._inflight: set[asyncio.Task[None]] = set()
        self._finished: list[delivery_outcomes.Finished] = []
        self._recording = asyncio.Lock()
        self._waiting_for_database: asyncio.Task[None] | None = None
        self._starved = False
        # Called when room frees up after a tick found none, or when an outcome made a
        # row due again (the engine's wake-up).
        self.wake: Callable[[], None] | None = None
        # When a row is next due, read in the last claim's transaction, so the engine
        # sleeps on it without a transaction of its own. New rows come with a NOTIFY;
        # retries this process schedules wake it (``_write``).
        self._next: datetime | None = None

    async def tick(self, database: Database, now: datetime, *, batch_size: int) -> TickReport:
        report = TickReport(self.name)
        room = self._capacity - len(self._inflight)
        if self._full():
            self._starved = True
            return report
        limit = min(batch_size, room)
        outcomes = tiers.Outcomes()
        async with database.transaction() as session:
            recovered = await deliveries.recover_expired(
                session, now=now, resendable=self.notifier.resendable, limit=batch_size
            )
            if recovered:
                log.warning("recovered sends whose worker stopped", deliveries=recovered)
            if self.breakers.stale(now):
                await self.breakers.refresh(session, now, self._providers())
            holds: dict[uuid.UUID, datetime | None] = {}

            async def maintenance_until(service_id: uuid.UUID) -> datetime | None:
                if service_id not in holds:
                    windows = await maintenance.maintenance_windows_for(session, service_id)
                    holds[service_id] = domain_maintenance.active_until(windows, now)
                return holds[service_id]

            claim = await deliveries.claim_due(
                session,
                limit=limit,
                policy=self.notifier.send,
                now=now,
                maintenance_until=maintenance_until,
            )
            if claim.final_pages:
                await tiers.after_final(
                    session,
                    claim.final_pages,
                    ops=self.notifier.send.ops,
                    now=now,
                    outcomes=outcomes,
                )
            self._next = await deliveries.next_due(session)
        self._count(outcomes)
        report.claimed = claim.claimed
        report.applied = claim.claimed - claim.failed
        report.failed = claim.failed
        report.more = claim.claimed == limit
        tasks = [
            asyncio.create_task(self._send(database, item, now), name=f"send-{item.delivery_id}")
            for item in claim.prepared
        ]
        for task in tasks:
            self._inflight.add(task)
            task.add_done_callback(self._done)
        if tasks and self.wait_for_sends > 0:
            await asyncio.wait(tasks, timeout=self.wait_for_sends)
        return report

    async def next_due(self, database: Database) -> datetime | None:
        if self._full():
            return None  # sends finishing make room and wake the engine
        return self._next

    async def drain(self) -> None:
        """Wait for sends still in flight and their outcomes (tests, a clean shutdown)."""
        while self._inflight:
            await asyncio.gather(*self._inflight, return_exceptions=True)

    def _full(self) -> bool:
        # Room for less than half a capacity counts as none: the engine then waits for a
        # batch's worth of room instead of claiming a handful of rows per tick, each
        # claim a transaction.
        return len(self._inflight) > self._capacity // 2

    def _done(self, task: asyncio.Task[None]) -> None:
        self._inflight.discard(task)
        if self._starved and not self._full():
            self._starved = False
            if self.wake is not None:
                self.wake()

    def _providers(self) -> list[str]:
        return [p.name for channel in self.notifier.channels.values() for p in channel.providers]

    async def _send(self, database: Database, item: deliveries.Prepared, now: datetime) -> None:
        channel = self.notifier.channels[item.kind]
        async with self._slots:
            try:
                outcome, provider = await sending.send(
                    database,
                    channel,
                    item.notice,
                    breakers=self.breakers,
                    time_limit=self.notifier.timeout,
                    now=now,
                )
            except Exception as error:
                # A bug or a database error around the call: the row stays "sending", its
                # lease expires and recovery decides. Logged (an outage once, by the
                # database) and counted, never silent.
                if not database.availability.failed(error):
                    log.exception("sending a delivery failed", delivery=str(item.delivery_id))
                self.metrics.engine_errors.labels(self.name).inc()
                return
        self._finished.append(
            delivery_outcomes.Finished(
                item.delivery_id,
                item.attempt,
                item.kind,
                outcome,
                provider,
                channel.resend_after_unknown,
                now,
            )
        )
        await self._record(database)

    async def _record(self, database: Database) -> None:
        """Record every outcome that has finished, in one transaction. While it is being
        written, more finish and wait for the lock; the next holder takes them all."""
        async with self._recording:
            batch, self._finished = self._finished, []
            if not batch:
                return
            try:
                await self._write(database, batch)
            except Exception as error:
                if database.availability.failed(error):
                    # The sends happened; only their record waits. Kept here and written
                    # as soon as the database is back, so that lease recovery does not
                    # send them again (unless this process dies meanwhile).
                    self._finished[:0] = batch
                    self._record_when_back(database)
                    return
                log.exception("recording a batch of outcomes failed", deliveries=len(batch))
                self.metrics.engine_errors.labels(self.name).inc()
                # One bad row must not leave the others to lease recovery (a re-send):
                # record them one by one; a row that still fails stays "sending".
                for item in batch:
                    try:
                        await self._write(database, [item])
                    except Exception:
                        log.exception("recording an outcome failed", delivery=str(item.delivery_id))
            for item in batch:
                self.metrics.notifications.labels(item.kind.value, _label(item)).inc()

    def _record_when_back(self, database: Database) -> None:
        if self._waiting_for_database is not None and not self._waiting_for_database.done():
            return

        async def when_back() -> None:
            while not await database.availability.wait_until_up(60):
                pass
            await self._record(database)

        self._waiting_for_database = asyncio.create_task(when_back(), name="record-when-back")

    async def _write(self, database: Database, batch: list[delivery_outcomes.Finished]) -> None:
        outcomes = tiers.Outcomes()
        async with database.transaction() as session:
            final = await delivery_outcomes.record(session, batch)
            # A failure or an unknown outcome may have made a row due later (a retry)
            # or released the next tier: the engine looks again (``next_due``).
            again = any(not isinstance(item.outcome, Sent) for item in batch)
            if final:
                await tiers.after_final(
                    session,
                    final,
                    ops=self.notifier.send.ops,
                    now=max(item.at for item in batch),
                    outcomes=outcomes,
                )
        self._count(outcomes)
        if again and self.wake is not None:
            self.wake()

    def _count(self, outcomes: tiers.Outcomes) -> None:
        self.metrics.notification_unreachable.inc(outcomes.unreachable)
        self.metrics.operations_incidents.inc(outcomes.ops_incidents)


def _label(item: delivery_outcomes.Finished) -> str:
    outcome = item.outcome
    if isinstance(outcome, Sent):
        return "delivered" if outcome.delivered else "sent"
    if isinstance(outcome, Unknown):
        return "unknown"
    assert isinstance(outcome, Failed)
    return "failed" if outcome.permanent or item.attempt >= MAX_ATTEMPTS else "retry"
