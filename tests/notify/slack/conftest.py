"""Slack's test world: a strict fake Slack Web API over loopback, settings pointing at it,
an engine that sends, and tocsin installed in the fake workspace."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

import pytest
from pydantic import SecretStr

from tests.fakes import slack as fake
from tests.fakes.slack import FakeSlack
from tests.notify.conftest import Oncall
from tocsin.actions.actors import system_actor
from tocsin.clock import FrozenClock
from tocsin.config import Settings
from tocsin.db.session import Database
from tocsin.engine.loop import Engine
from tocsin.notify.channels.slack import workspaces
from tocsin.security.encryption import Cipher

SIGNING_SECRET = "slack-signing-secret"
# The key the test app encrypts with (tests/conftest.py's secret key).
CIPHER = Cipher(b"test-secret-key-not-for-production")


@pytest.fixture
def slack() -> Iterator[FakeSlack]:
    server = FakeSlack()
    server.start()
    try:
        yield server
    finally:
        server.stop()
    assert server.unexpected() == [], f"unexpected Slack traffic: {server.unexpected()}"


@pytest.fixture
def settings(settings: Settings, slack: FakeSlack) -> Settings:
    return settings.model_copy(
        update={
            "slack_client_id": fake.CLIENT_ID,
            "slack_client_secret": SecretStr(fake.CLIENT_SECRET),
            "slack_signing_secret": SecretStr(SIGNING_SECRET),
            "slack_api_url": slack.api_url,
        }
    )


@pytest.fixture
def engine(settings_engine: Engine) -> Engine:
    return settings_engine


async def install(
    database: Database,
    clock: FrozenClock,
    *,
    refresh_token: str | None = None,
    expires_at: datetime | None = None,
) -> None:
    """tocsin installed in the fake workspace, as an admin's OAuth install leaves it."""
    async with database.transaction() as session:
        await workspaces.install(
            session,
            CIPHER,
            actor=system_actor("test"),
            team_id=fake.TEAM_ID,
            team_name="Tocsin Test",
            bot_user_id="U0BOT",
            bot_token=fake.BOT_TOKEN,
            refresh_token=refresh_token,
            expires_at=expires_at,
            now=clock.now(),
        )


async def link_alice(database: Database, clock: FrozenClock, oncall: Oncall) -> None:
    async with database.transaction() as session:
        await workspaces.link(
            session,
            actor=system_actor("test"),
            user=oncall.alice,
            team_id=fake.TEAM_ID,
            slack_user_id="U0ALICE",
            now=clock.now(),
        )


@pytest.fixture
async def linked(oncall: Oncall, database: Database, clock: FrozenClock) -> Oncall:
    """tocsin installed in the workspace; Alice linked as U0ALICE."""
    await install(database, clock)
    await link_alice(database, clock, oncall)
    return oncall
