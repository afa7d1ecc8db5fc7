"""Delivery module: send every due delivery, once, and recover sends whose worker died.

Owns ``delivery.next_attempt_at`` (queued, held, unknown) and ``delivery.lease_until``
(sending). One tick:

1. In one transaction: turn ``sending`` rows whose lease has expired into ``unknown``
   (``actions.deliveries.recover_expired``); claim due rows with ``FOR UPDATE SKIP
   LOCKED``; ``prepare`` each (incident still triggered? maintenance? rate limit?) and mark
   it ``sending`` with a lease. Commit: from here a crash leaves a row the lease recovers.
2. Call the providers outside any transaction, concurrently (``notify.sending``).
3. Record each outcome in its own short transaction, a compare-and-set on the attempt.

A duplicate run is harmless: a claimed row is locked, a ``sending`` row is not due, and an
outcome for an attempt that is no longer current matches nothing.

The tick waits a short while for its sends, then leaves slow ones to finish in the
background, so a slow mail server never delays the escalation module's next tick.
"""

from __future__ import annotations

import asyncio
import uuid
from datetime import datetime, timedelta

import sqlalchemy as sa
import structlog

from tocsin.actions import deliveries, delivery_tiers, maintenance
from tocsin.db.models.deliveries import Delivery
from tocsin.db.session import Database
from tocsin.domain import maintenance as domain_maintenance
from tocsin.domain.deliveries import DeliveryStatus, Failed, Outcome, Sent, Unknown
from tocsin.engine import claims
from tocsin.engine.modules import TickReport, apply_each
from tocsin.metrics import Metrics
from tocsin.notify import sending
from tocsin.notify.notifier import Notifier

log = structlog.get_logger(__name__)

RETRY_AFTER_FAILURE = timedelta(seconds=30)
CLAIMABLE = (DeliveryStatus.QUEUED, DeliveryStatus.HELD, DeliveryStatus.UNKNOWN)
_DUE = (Delivery.status.in_(CLAIMABLE),)


class DeliveryModule:
    name = "deliveries"

    def __init__(
        self, notifier: Notifier, metrics: Metrics, *, wait_for_sends: float = 2.0
    ) -> None:
        self.notifier = notifier
        self.metrics = metrics
        self.wait_for_sends = wait_for_sends
        self._slots = asyncio.Semaphore(notifier.concurrency)
        self._inflight: set[asyncio.Task[None]] = set()

    async def tick(self, database: Database, now: datetime, *, batch_size: int) -> TickReport:
        report = TickReport(self.name)
        prepared: list[deliveries.Prepared] = []
        outcomes = delivery_tiers.Outcomes()
        async with database.transaction() as session:
            recovered = await deliveries.recover_expired(
                session, now=now, resendable=self.notifier.resendable, limit=batch_size
            )
            if recovered:
                log.warning("recovered sends whose worker stopped", deliveries=recovered)
            due = await claims.claim_due(
                session,
                Delivery,
                Delivery.next_attempt_at,
                now=now,
                limit=batch_size,
                where=_DUE,
            )
            report.claimed = len(due)
            report.more = len(due) == batch_size
            holds: dict[uuid.UUID, datetime | None] = {}
            final_pages: list[uuid.UUID] = []

            async def maintenance_until(service_id: uuid.UUID) -> datetime | None:
                if service_id not in holds:
                    windows = await maintenance.maintenance_windows_for(session, service_id)
                    holds[service_id] = domain_maintenance.active_until(windows, now)
                return holds[service_id]

            async def step(delivery: Delivery) -> bool:
                decided = await deliveries.prepare(
                    session,
                    delivery,
                    policy=self.notifier.send,
                    now=now,
                    maintenance_until=maintenance_until,
                )
                final_pages.extend(decided.final_pages)
                if decided.prepared is not None:
                    prepared.append(decided.prepared)
                return True

            async def later(delivery: Delivery) -> None:
                await session.execute(
                    sa.update(Delivery)
                    .where(Delivery.id == delivery.id, Delivery.status.in_(CLAIMABLE))
                    .values(next_attempt_at=now + RETRY_AFTER_FAILURE)
                    .execution_options(synchronize_session=False)
                )

            await apply_each(session, due, step, report, on_failure=later)
            if final_pages:
                await delivery_tiers.after_final(
                    session, final_pages, ops=self.notifier.send.ops, now=now, outcomes=outcomes
                )
        self._count(outcomes)
        tasks = [
            asyncio.create_task(self._send(database, item, now), name=f"send-{item.delivery_id}")
            for item in prepared
        ]
        for task in tasks:
            self._inflight.add(task)
            task.add_done_callback(self._inflight.discard)
        if tasks:
            await asyncio.wait(tasks, timeout=self.wait_for_sends)
        return report

    async def next_due(self, database: Database) -> datetime | None:
        async with database.transaction() as session:
            due = await claims.earliest(session, Delivery.next_attempt_at, *_DUE)
            lease = await claims.earliest(
                session, Delivery.lease_until, Delivery.status == DeliveryStatus.SENDING
            )
        return min((t for t in (due, lease) if t is not None), default=None)

    async def drain(self) -> None:
        """Wait for sends still in flight (tests and a clean shutdown)."""
        if self._inflight:
            await asyncio.gather(*self._inflight, return_exceptions=True)

    async def _send(self, database: Database, item: deliveries.Prepared, now: datetime) -> None:
        channel = self.notifier.channels[item.kind]
        try:
            async with self._slots:
                outcome, provider = await sending.send(
                    database, channel, item.notice, time_limit=self.notifier.timeout, now=now
                )
            outcomes = delivery_tiers.Outcomes()
            async with database.transaction() as session:
                pages = await deliveries.finish(
                    session,
                    item,
                    outcome,
                    provider=provider,
                    resend_after_unknown=channel.resend_after_unknown,
                    now=now,
                )
                if pages:
                    await delivery_tiers.after_final(
                        session, pages, ops=self.notifier.send.ops, now=now, outcomes=outcomes
                    )
        except Exception:
            # The row stays "sending"; its lease expires and recovery decides. Logged and
            # counted, never swallowed silently.
            log.exception("recording a delivery outcome failed", delivery=str(item.delivery_id))
            self.metrics.engine_errors.labels(self.name).inc()
            return
        self.metrics.notifications.labels(item.kind.value, _label(outcome, pages)).inc()
        self._count(outcomes)

    def _count(self, outcomes: delivery_tiers.Outcomes) -> None:
        self.metrics.notification_unreachable.inc(outcomes.unreachable)
        self.metrics.operations_incidents.inc(outcomes.ops_incidents)


def _label(outcome: Outcome, final_pages: list[uuid.UUID]) -> str:
    if isinstance(outcome, Sent):
        return "delivered" if outcome.delivered else "sent"
    if isinstance(outcome, Unknown):
        return "unknown"
    assert isinstance(outcome, Failed)
    return "failed" if outcome.permanent or final_pages else "retry"
