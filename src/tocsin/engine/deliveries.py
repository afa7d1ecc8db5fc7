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
3. As each call finishes, record its outcome at once (``actions.delivery_outcomes.record``)
   in a transaction of its own, taking along any other outcome finished meanwhile: the
   time between a provider accepting a message and the database knowing it is the window
   in which a crash makes a duplicate, so it is never spent queueing behind another write.
   At most ``RECORD_WRITERS`` such transactions run at once.

Leases are short (``notifier.LEASE``) and renewed: while any send of this module is in
flight or its outcome unrecorded, one task extends all their leases every third of a
lease. A worker killed mid-send is found by any other within one lease; a live worker's
sends are never taken for lost, however slow its provider. After a database outage no
lease could be renewed, so recovery waits one lease before it trusts an expired one:
live workers renew (and record) first.

A duplicate run is harmless: a claimed row is locked, a ``sending`` row is not due, and an
outcome for an attempt that is no longer current matches nothing.

The module never holds more claimed sends than twice its concurrency, so that claims stay
batches. When more than half of that is in flight it claims nothing and says it has
nothing due, and the send that brings it back to half wakes the engine (``wake``, set by
the engine loop): claims stay batches, not a row or two per transaction.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from datetime import datetime

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from tocsin.actions.notify import deliveries, tiers
from tocsin.actions.notify import outcomes as delivery_outcomes
from tocsin.actions.services import maintenance
from tocsin.db.session import Database
from tocsin.domain.deliveries import MAX_ATTEMPTS, Failed, Sent, Unknown
from tocsin.engine.modules import TickReport
from tocsin.metrics import Metrics
from tocsin.notify import sending
from tocsin.notify.notifier import LEASE, Notifier

log = structlog.get_logger(__name__)

RENEW_EVERY = LEASE / 3
# Outcome writes that may run at once: enough that an accepted send is recorded without
# waiting behind another write, few enough to leave the pool to the rest of the engine.
RECORD_WRITERS = 4


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
        self._writers = asyncio.Semaphore(RECORD_WRITERS)
        # Sends whose lease this process renews (delivery id → attempt): from the claim
        # until their outcome is written, or until a failure leaves them to recovery.
        self._leased: dict[uuid.UUID, int] = {}
        self._renewing: asyncio.Task[None] | None = None
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
        if self._full():
            self._starved = True
            return report
        outcomes = tiers.Outcomes()
        async with database.transaction() as session:
            if not database.availability.back_within(LEASE.total_seconds()):
                recovered = await deliveries.recover_expired(
                    session, now=now, resendable=self.notifier.resendable, limit=batch_size
                )
                if recovered:
                    log.warning("recovered sends whose worker stopped", deliveries=recovered)
            if self.breakers.stale(now):
                await self.breakers.refresh(session, now, self._providers())
            claim, limit = await self._claim(session, now, batch_size, outcomes)
        self._count(outcomes)
        report.claimed = claim.claimed
        report.applied = claim.claimed - claim.failed
        report.failed = claim.failed
        report.more = claim.claimed == limit
        await self.start(database, claim, now)
        return report

    async def claim_for(
        self,
        session: AsyncSession,
        now: datetime,
        *,
        limit: int,
        outcomes: tiers.Outcomes,
        holds: maintenance.Holds | None = None,
    ) -> deliveries.Claim | None:
        """Claim the due deliveries in another module's transaction: the dispatcher's, which
        has just written them, so that they are sent when it commits (``start``) instead of
        after a NOTIFY, a wake-up and a claim of this lane's own. None when this module has
        no room (sends finishing wake its lane, which claims them).

        Nothing else wakes this lane for them, so it is woken here for what this claim
        leaves: a full batch (more may be due) or an earlier due time than the one it
        sleeps until (a rule's delay). ``holds``: the caller's maintenance lookups, reused."""
        if self._full():
            self._starved = True
            return None
        sleeping_until = self._next
        claim, limit = await self._claim(session, now, limit, outcomes, holds)
        earlier = self._next is not None and (sleeping_until is None or self._next < sleeping_until)
        if (claim.claimed == limit or earlier) and self.wake is not None:
            self.wake()
        return claim

    async def _claim(
        self,
        session: AsyncSession,
        now: datetime,
        limit: int,
        outcomes: tiers.Outcomes,
        holds: maintenance.Holds | None = None,
    ) -> tuple[deliveries.Claim, int]:
        """Claim at most ``limit`` due rows, no more than there is room for; the claim and
        the limit it was taken with."""
        limit = min(limit, self._capacity - len(self._inflight))
        claim = await deliveries.claim_due(
            session,
            limit=limit,
            policy=self.notifier.send,
            now=now,
            maintenance_until=(holds or maintenance.Holds(session, now)).until,
        )
        if claim.final_pages:
            await tiers.after_final(
                session, claim.final_pages, ops=self.notifier.send.ops, now=now, outcomes=outcomes
            )
        self._next = await deliveries.next_due(session)
        return claim, limit

    async def start(self, database: Database, claim: deliveries.Claim, now: datetime) -> None:
        """Send what ``claim`` prepared, once the transaction that claimed it committed
        (and wait for the sends if ``wait_for_sends`` says so)."""
        tasks = [
            asyncio.create_task(self._send(database, item, now), name=f"send-{item.delivery_id}")
            for item in claim.prepared
        ]
        for item in claim.prepared:
            self._leased[item.delivery_id] = item.attempt
        self._renew_leases(database)
        for task in tasks:
            self._inflight.add(task)
            task.add_done_callback(self._done)
        if tasks and self.wait_for_sends > 0:
            await asyncio.wait(tasks, timeout=self.wait_for_sends)

    async def next_due(self, database: Database) -> datetime | None:
        if self._full():
            return None  # sends finishing make room and wake the engine
        return self._next

    async def drain(self) -> None:
        """Wait for sends still in flight and their outcomes (tests, a clean shutdown)."""
        while self._inflight:
            await asyncio.gather(*self._inflight, return_exceptions=True)
        if self._renewing is not None and not self._leased:
            self._renewing.cancel()
            await asyncio.gather(self._renewing, return_exceptions=True)

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
                self._leased.pop(item.delivery_id, None)
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
        """Record every outcome that has finished and is not being written yet."""
        # Sends started together finish together: let every call that returned in this
        # same turn of the event loop add its outcome first, so that they are written in
        # one transaction rather than queueing one by one behind the writers.
        await asyncio.sleep(0)
        async with self._writers:
            batch, self._finished = self._finished, []
            if not batch:
                return  # another writer took it along
            try:
                await self._write(database, batch)
            except Exception as error:
                if database.availability.failed(error):
                    # The sends happened; only their record waits. Kept here (their
                    # leases still renewed) and written as soon as the database is back,
                    # so that lease recovery does not send them again.
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
                self._leased.pop(item.delivery_id, None)
                self.metrics.notifications.labels(item.kind.value, _label(item)).inc()

    def _renew_leases(self, database: Database) -> None:
        """Keep one task renewing the leases of this module's sends while there are any."""
        if self._renewing is not None and not self._renewing.done():
            return
        if self._leased:
            self._renewing = asyncio.create_task(self._renew(database), name="renew-leases")

    async def _renew(self, database: Database) -> None:
        while True:
            await asyncio.sleep(RENEW_EVERY.total_seconds())
            leased = dict(self._leased)
            if not leased:
                return
            try:
                async with database.transaction() as session:
                    until = self.notifier.clock.now() + LEASE
                    await deliveries.renew_leases(session, leased, until=until)
            except Exception as error:
                # Keep trying: a missed renewal costs nothing while the lease lasts, and
                # after an outage recovery waits for this (``tick``).
                if not database.availability.failed(error):
                    log.exception("renewing the leases of sends in flight failed")
                    self.metrics.engine_errors.labels(self.name).inc()

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
