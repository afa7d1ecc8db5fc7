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
