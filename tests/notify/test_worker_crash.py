"""A ``tocsin worker`` killed in the middle of an SMTP conversation: the send it held is
recovered when its lease expires, sent once, with the same Message-ID, never lost."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from datetime import timedelta

import httpx
import pytest
import sqlalchemy as sa
from fastapi import FastAPI

from tests.fakes.smtp import FakeSmtp
from tests.notify.conftest import Deliveries, Oncall, sending_engine
from tests.scenarios.conftest import send, trigger
from tocsin.clock import FrozenClock
from tocsin.config import Settings
from tocsin.db.models.deliveries import Delivery
from tocsin.db.session import Database
from tocsin.domain.deliveries import DeliveryStatus
from tocsin.engine.deliveries import RENEW_EVERY, DeliveryModule
from tocsin.notify import notifier as notify

pytestmark = pytest.mark.slow


async def test_a_worker_killed_mid_send_is_recovered_and_sent_once(
    app: FastAPI,
    client: httpx.AsyncClient,
    oncall: Oncall,
    smtp: FakeSmtp,
    database: Database,
    mail_settings: Settings,
    deliveries: Deliveries,
) -> None:
    assert mail_settings.database_url is not None
    await send(client, oncall.key, trigger("db-1/disk"))
    smtp.hang_seconds = 60.0
    env = {
        **os.environ,
        "TOCSIN_DATABASE_URL": mail_settings.database_url,
        "TOCSIN_DATA_DIR": str(mail_settings.data_dir),
        "TOCSIN_SECRET_KEY": "test-secret-key-not-for-production",
        "TOCSIN_PUBLIC_URL": "https://tocsin.test",
        "TOCSIN_SMTP_HOST": "127.0.0.1",
        "TOCSIN_SMTP_PORT": str(smtp.port),
        "TOCSIN_SMTP_SECURITY": "none",
        "TOCSIN_SMTP_TIMEOUT_SECONDS": "30",
        "TOCSIN_LOG_LEVEL": "warning",
    }
    worker = await asyncio.create_subprocess_exec(sys.executable, "-m", "tocsin", "worker", env=env)
    try:
        assert await asyncio.to_thread(smtp.rcpt_seen.wait, 60), "the worker never called SMTP"
        worker.send_signal(signal.SIGKILL)  # no goodbye: the process is gone mid-call
    finally:
        await asyncio.wait_for(worker.wait(), 30)
    (held,) = await deliveries.all()
    assert held.status is DeliveryStatus.SENDING
    assert held.attempts == 1
    assert held.lease_until is not None
    # A short lease: a dead worker's send is found within seconds, not minutes.
    assert held.lease_until <= held.last_attempt_at + 2 * notify.LEASE
    assert smtp.unexpected() == []

    # Another engine, once the lease has expired: recovered as unknown, then re-sent.
    later = FrozenClock(held.lease_until + timedelta(seconds=1))
    engine = sending_engine(app, database, later, notify.build(mail_settings, database, later))
    await engine.tick()
    mail = smtp.expect(to="alice@example.com", subject="Disk full on db-1")
    (sent,) = await deliveries.all()
    assert sent.status is DeliveryStatus.SENT
    assert sent.attempts == 2
    assert sent.error_code is None
    assert str(mail.message["Message-ID"]) == sent.details["message_id"]
    async with database.transaction() as session:
        assert await session.scalar(sa.select(sa.func.count()).select_from(Delivery)) == 1


async def test_a_live_workers_slow_send_keeps_its_lease_and_is_sent_once(
    app: FastAPI,
    client: httpx.AsyncClient,
    oncall: Oncall,
    smtp: FakeSmtp,
    database: Database,
    mail_settings: Settings,
    deliveries: Deliveries,
    clock: FrozenClock,
) -> None:
    """Leases are short and renewed: a send that outlives its first lease (here by
    minutes of the clock, more than the fixed lease of old allowed) is still its live worker's, and
    another engine looking meanwhile takes nothing for lost."""
    await send(client, oncall.key, trigger("db-1/disk"))
    slow = sending_engine(app, database, clock, notify.build(mail_settings, database, clock))
    for module in slow.modules:
        if isinstance(module, DeliveryModule):
            module.wait_for_sends = 0.0  # the tick returns while the send runs
    smtp.slow_seconds = 2 * RENEW_EVERY.total_seconds() + 0.5
    await slow.tick()
    assert await asyncio.to_thread(smtp.rcpt_seen.wait, 10), "the send never started"

    clock.advance(minutes=4)  # past any fixed lease, short of escalating to level 2
    # The running send's worker renews its lease from the (advanced) clock.
    for _ in range(100):
        (held,) = await deliveries.all()
        if held.lease_until is not None and held.lease_until > clock.now():
            break
        await asyncio.sleep(0.1)
    assert held.status is DeliveryStatus.SENDING
    assert held.lease_until is not None
    assert held.lease_until <= clock.now() + notify.LEASE

    other = sending_engine(app, database, clock, notify.build(mail_settings, database, clock))
    await other.tick()  # another worker: nothing expired, nothing to recover
    (still,) = await deliveries.all()
    assert (still.status, still.attempts) == (DeliveryStatus.SENDING, 1)

    for module in slow.modules:
        if isinstance(module, DeliveryModule):
            await module.drain()
    smtp.expect(to="alice@example.com", subject="Disk full on db-1")
    (sent,) = await deliveries.all()
    assert (sent.status, sent.attempts, sent.lease_until) == (DeliveryStatus.SENT, 1, None)
