"""Slack token rotation: a bot token that expires is renewed with its refresh token
before it would fail a page, on a ``token_expired`` answer, and once however many workers
renew at the same time; a refresh Slack refuses disables the workspace, visibly."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import httpx
import sqlalchemy as sa

from tests.fakes import slack as fake
from tests.fakes.slack import FakeSlack
from tests.notify.conftest import Oncall
from tests.notify.slack.conftest import CIPHER, install, link_alice
from tests.scenarios.conftest import send, trigger
from tocsin.clock import FrozenClock
from tocsin.config import Settings
from tocsin.db.models.contact_methods import ContactMethod
from tocsin.db.models.deliveries import Delivery
from tocsin.db.models.slack import SlackWorkspace
from tocsin.db.session import Database
from tocsin.domain.channels import ChannelKind
from tocsin.domain.deliveries import DeliveryStatus
from tocsin.engine.loop import Engine
from tocsin.notify.channels.slack import workspaces
from tocsin.notify.channels.slack.web_api import SlackApi

TWELVE_HOURS = timedelta(seconds=43200)


async def _workspace(database: Database) -> SlackWorkspace:
    async with database.transaction() as session:
        found = await session.get(SlackWorkspace, fake.TEAM_ID)
    assert found is not None
    return found


async def _slack_delivery(database: Database) -> Delivery:
    async with database.transaction() as session:
        found = await session.scalar(sa.select(Delivery).where(Delivery.kind == ChannelKind.SLACK))
    assert found is not None
    return found


async def test_a_token_about_to_expire_is_renewed_before_the_page_goes_out(
    client: httpx.AsyncClient,
    oncall: Oncall,
    engine: Engine,
    slack: FakeSlack,
    clock: FrozenClock,
    database: Database,
) -> None:
    slack.rotating()
    await install(
        database,
        clock,
        refresh_token=fake.REFRESH_TOKEN,
        expires_at=clock.now() + timedelta(minutes=3),
    )
    await link_alice(database, clock, oncall)

    await send(client, oncall.key, trigger("db-1/disk"))
    await engine.tick()

    renewal = slack.expect("oauth.v2.access", grant_type="refresh_token")
    assert renewal.arguments["refresh_token"] == fake.REFRESH_TOKEN
    page = slack.expect("chat.postMessage", channel="U0ALICE")
    assert page.token == "xoxe.xoxb-1-rotated-1"  # the new token, not the expiring one
    assert (await _slack_delivery(database)).status is DeliveryStatus.SENT
    workspace = await _workspace(database)
    assert CIPHER.decrypt(workspace.bot_token_encrypted) == "xoxe.xoxb-1-rotated-1"
    assert workspace.refresh_token_encrypted is not None
    assert CIPHER.decrypt(workspace.refresh_token_encrypted) == "xoxe-1-refresh-1"
    assert workspace.token_expires_at == clock.now() + TWELVE_HOURS


async def test_a_token_slack_says_expired_is_renewed_and_the_page_is_sent_once(
    client: httpx.AsyncClient,
    oncall: Oncall,
    engine: Engine,
    slack: FakeSlack,
    clock: FrozenClock,
    database: Database,
) -> None:
    slack.rotating()
    # By tocsin's reckoning the token has two hours left; Slack already expired it.
    await install(
        database,
        clock,
        refresh_token=fake.REFRESH_TOKEN,
        expires_at=clock.now() + timedelta(hours=2),
    )
    await link_alice(database, clock, oncall)
    slack.expire(fake.BOT_TOKEN)

    await send(client, oncall.key, trigger("db-1/disk"))
    await engine.tick()

    refused = slack.expect("chat.postMessage", channel="U0ALICE")
    assert refused.token == fake.BOT_TOKEN
    slack.expect("oauth.v2.access", grant_type="refresh_token")
    sent = slack.expect("chat.postMessage", channel="U0ALICE")
    assert sent.token == "xoxe.xoxb-1-rotated-1"
    delivery = await _slack_delivery(database)
    assert delivery.status is DeliveryStatus.SENT
    assert delivery.attempts == 1
    # No other post: the strict fake fails the test at teardown on any.


async def test_a_refused_renewal_disables_the_workspace_and_warns(
    client: httpx.AsyncClient,
    oncall: Oncall,
    engine: Engine,
    slack: FakeSlack,
    clock: FrozenClock,
    database: Database,
) -> None:
    slack.rotating()
    await install(
        database,
        clock,
        refresh_token="xoxe-1-revoked",
        expires_at=clock.now() + timedelta(minutes=1),
    )
    await link_alice(database, clock, oncall)

    await send(client, oncall.key, trigger("db-1/disk"))
    await engine.tick()

    slack.expect("oauth.v2.access", grant_type="refresh_token", refresh_token="xoxe-1-revoked")
    delivery = await _slack_delivery(database)
    assert (delivery.status, delivery.error_code) == (DeliveryStatus.FAILED, "revoked")
    assert delivery.error_detail == (
        f"Slack refused to renew the bot token of workspace {fake.TEAM_ID}: invalid_refresh_token"
    )
    workspace = await _workspace(database)
    assert workspace.disabled_at == clock.now()
    assert workspace.disabled_reason == (
        "Slack refused to renew the bot token (invalid_refresh_token): install tocsin again"
    )
    async with database.transaction() as session:
        method = await session.scalar(
            sa.select(ContactMethod).where(ContactMethod.kind == ChannelKind.SLACK)
        )
    assert method is not None
    assert method.disabled_at is None  # the workspace's fault, not Alice's

    alice = await oncall.seed.as_user(oncall.alice)
    shown = await alice.get("/profile/notifications")
    assert shown.status_code == 200
    assert "tocsin no longer reaches the Slack workspace Tocsin Test" in shown.text
    assert "invalid_refresh_token" in shown.text


async def test_two_workers_renewing_at_once_end_with_one_stored_token(
    oncall: Oncall, slack: FakeSlack, clock: FrozenClock, database: Database, settings: Settings
) -> None:
    slack.rotating()
    await install(
        database,
        clock,
        refresh_token=fake.REFRESH_TOKEN,
        expires_at=clock.now() + timedelta(minutes=2),
    )
    # Two processes: two clients, each with its own memory of the tokens.
    first, second = (SlackApi.of(settings, database, CIPHER, clock) for _ in range(2))
    stale = await first.tokens(fake.TEAM_ID)
    assert stale is not None
    renewed = await asyncio.gather(
        first.renew(fake.TEAM_ID, stale, time_limit=5),
        second.renew(fake.TEAM_ID, stale, time_limit=5),
    )

    # One worker holds the workspace while it asks Slack; the other does not spend the
    # same refresh token: it uses the tokens it has (still valid for two minutes) or,
    # if it looked after the first committed, the new ones.
    slack.expect("oauth.v2.access", refresh_token=fake.REFRESH_TOKEN)
    assert slack.rotations == 1
    usable = {fake.BOT_TOKEN, "xoxe.xoxb-1-rotated-1"}
    assert all(isinstance(t, workspaces.Tokens) and t.bot_token in usable for t in renewed)
    workspace = await _workspace(database)
    assert workspace.disabled_at is None
    assert CIPHER.decrypt(workspace.bot_token_encrypted) == "xoxe.xoxb-1-rotated-1"
