"""Notification scenarios: a real SMTP server, an engine that sends, a frozen clock."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import sqlalchemy as sa
import trustme
from fastapi import FastAPI

from tests.builders import Seed, context_of_app
from tests.fakes.smtp import FakeSmtp
from tests.fakes.twilio import FakeTwilio
from tests.fakes.vonage import FakeVonage
from tests.scenarios.conftest import World
from tocsin.clock import FrozenClock
from tocsin.config import Settings
from tocsin.db.models.deliveries import Delivery
from tocsin.db.models.users import User
from tocsin.db.session import Database
from tocsin.domain.access import TeamRole
from tocsin.engine.deliveries import DeliveryModule
from tocsin.engine.loop import Engine, default_modules
from tocsin.notify import notifier as notify


@pytest.fixture
def smtp() -> Iterator[FakeSmtp]:
    server = FakeSmtp()
    server.start()
    try:
        yield server
    finally:
        server.stop()
    # Strict: a mail no test claimed is a duplicate or a page that should not exist.
    assert server.unexpected() == [], f"unexpected mail: {server.unexpected()}"


@pytest.fixture
def mail_settings(settings: Settings, smtp: FakeSmtp) -> Settings:
    return settings.model_copy(
        update={"smtp_host": "127.0.0.1", "smtp_port": smtp.port, "smtp_security": "none"}
    )


@pytest.fixture
def notifier(mail_settings: Settings, database: Database, clock: FrozenClock) -> notify.Notifier:
    return notify.build(mail_settings, database, clock)


def sending_engine(
    app: FastAPI, database: Database, clock: FrozenClock, notifier: notify.Notifier
) -> Engine:
    metrics = context_of_app(app).metrics
    modules = default_modules(metrics, notifier)
    for module in modules:
        if isinstance(module, DeliveryModule):
            # Tests wait for every send of a tick before looking at the result.
            module.wait_for_sends = 60.0
    return Engine(database, clock, metrics, modules=modules)


@pytest.fixture
def engine(
    app: FastAPI, database: Database, clock: FrozenClock, notifier: notify.Notifier
) -> Engine:
    return sending_engine(app, database, clock, notifier)


@dataclass
class Deliveries:
    database: Database

    async def all(self) -> list[Delivery]:
        async with self.database.transaction() as session:
            return list(
                (
                    await session.scalars(
                        sa.select(Delivery).order_by(Delivery.created_at, Delivery.kind)
                    )
                ).all()
            )

    async def statuses(self) -> list[tuple[str, str, str]]:
        """(purpose, kind, status) of every delivery."""
        return [(d.purpose.value, d.kind.value, d.status.value) for d in await self.all()]


@pytest.fixture
def deliveries(database: Database) -> Deliveries:
    return Deliveries(database)


@pytest.fixture
def world(database: Database) -> World:
    return World(database)


@dataclass
class Oncall:
    alice: User
    bob: User
    key: str
    seed: Seed


@pytest.fixture
async def oncall(seed: Seed) -> Oncall:
    """Alice (level 1, 5 minutes) then Bob, on the payments-api service."""
    alice = await seed.user("Alice", email="alice@example.com", time_zone="Europe/Berlin")
    bob = await seed.user("Bob", email="bob@example.com")
    team = await seed.team("Payments", [(alice, TeamRole.RESPONDER), (bob, TeamRole.RESPONDER)])
    policy = await seed.policy(team, [(5, [alice]), (10, [bob])])
    service = await seed.service(team, policy, name="payments-api")
    _, key = await seed.integration(service)
    return Oncall(alice, bob, key, seed)


@pytest.fixture
def settings_engine(
    app: FastAPI, settings: Settings, database: Database, clock: FrozenClock
) -> Engine:
    """An engine with the channels the test's settings configure (a module's ``settings``
    fixture adds a vendor's fake; mail goes to the local outbox unless SMTP is set)."""
    return sending_engine(app, database, clock, notify.build(settings, database, clock))


@pytest.fixture
def twilio() -> Iterator[FakeTwilio]:
    server = FakeTwilio()
    server.start()
    try:
        yield server
    finally:
        server.stop()
    assert server.unexpected() == [], f"unexpected Twilio traffic: {server.unexpected()}"


@pytest.fixture
def vonage(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeVonage]:
    ca = trustme.CA()
    bundle = tmp_path / "vonage-ca.pem"
    ca.cert_pem.write_to_path(str(bundle))
    # The SDK's requests session trusts the fake's CA as it would a proxy's.
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(bundle))
    server = FakeVonage(ca)
    server.start()
    try:
        yield server
    finally:
        server.stop()
    assert server.unexpected() == [], f"unexpected Vonage traffic: {server.unexpected()}"
