"""Slack, end to end: a fake Slack Web API over loopback, Slack's requests to tocsin signed
with ``slack_sdk``'s own ``SignatureVerifier``, a real PostgreSQL and a frozen clock.

The fake is strict (``tests/fakes/slack.py``): a message nobody claims (a duplicate page,
an update with nothing changed) fails the test at teardown.
"""

from __future__ import annotations

import json
import re
from datetime import timedelta
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import pytest
import sqlalchemy as sa
from slack_sdk.signature import SignatureVerifier

from tests.fakes import slack as fake
from tests.fakes.slack import FakeSlack
from tests.notify.conftest import Oncall
from tests.notify.slack.conftest import CIPHER, SIGNING_SECRET
from tests.scenarios.conftest import World, send, trigger
from tocsin.clock import FrozenClock
from tocsin.db.models.audit import AuditEvent
from tocsin.db.models.contact_methods import ContactMethod
from tocsin.db.models.deliveries import Delivery
from tocsin.db.models.slack import SlackWorkspace
from tocsin.db.session import Database
from tocsin.domain.access import TeamRole
from tocsin.domain.channels import ChannelKind
from tocsin.domain.deliveries import DeliveryStatus
from tocsin.engine.loop import Engine


def signed(body: bytes, clock: FrozenClock, *, secret: str = SIGNING_SECRET) -> dict[str, str]:
    timestamp = str(int(clock.now().timestamp()))
    signature = SignatureVerifier(secret).generate_signature(timestamp=timestamp, body=body)
    assert signature is not None
    return {
        "X-Slack-Request-Timestamp": timestamp,
        "X-Slack-Signature": signature,
        "Content-Type": "application/x-www-form-urlencoded",
    }


def press_body(
    slack: FakeSlack, action: str, incident_id: object, *, user: str = "U0ALICE"
) -> bytes:
    payload = {
        "type": "block_actions",
        "user": {"id": user, "team_id": fake.TEAM_ID},
        "team": {"id": fake.TEAM_ID},
        "api_app_id": "A0TOCSIN",
        "response_url": slack.response_url(),
        "trigger_id": "1.2.3",
        "actions": [{"action_id": action, "value": str(incident_id), "type": "button"}],
    }
    return urlencode({"payload": json.dumps(payload)}).encode()


def command_body(text: str, *, user: str = "U0ALICE") -> bytes:
    return urlencode(
        {
            "team_id": fake.TEAM_ID,
            "user_id": user,
            "command": "/tocsin",
            "text": text,
            "response_url": "https://hooks.slack.test/commands/1",
            "trigger_id": "1.2.3",
        }
    ).encode()


async def _page_alice(
    client: httpx.AsyncClient, oncall: Oncall, engine: Engine, slack: FakeSlack
) -> fake.Call:
    await send(client, oncall.key, trigger("db-1/disk"))
    await engine.tick()
    return slack.expect("chat.postMessage", channel="U0ALICE")


async def test_a_page_is_a_direct_message_and_its_button_acknowledges_as_the_person(
    client: httpx.AsyncClient,
    linked: Oncall,
    engine: Engine,
    slack: FakeSlack,
    clock: FrozenClock,
    world: World,
    database: Database,
) -> None:
    page = await _page_alice(client, linked, engine, slack)
    assert page.text == "[CRITICAL] #1 Disk full on db-1 on payments-api"
    assert page.action_ids() == ["acknowledge", "resolve", "escalate", "snooze"]
    incident = await world.incident()

    body = press_body(slack, "acknowledge", incident.id)
    pressed = await client.post("/slack/interactions", content=body, headers=signed(body, clock))
    assert pressed.status_code == 200, pressed.text
    acknowledged = await world.incident()
    assert acknowledged.status.value == "acknowledged"
    assert acknowledged.acknowledged_by == "alice@example.com"
    async with database.transaction() as session:
        event = await session.scalar(
            sa.select(AuditEvent).where(AuditEvent.action == "incident.acknowledged")
        )
    assert event is not None
    assert event.details["via"] == "slack"
    assert event.actor_id == linked.alice.id

    # The follow-up lane updates the direct message in place.
    await engine.tick()
    updated = slack.expect("chat.update", channel="D0ALICE")
    assert "Acknowledged by alice@example.com" in updated.all_text()
    assert "acknowledge" not in updated.action_ids()

    # A replay of the same signed press changes nothing and answers nothing.
    again = await client.post("/slack/interactions", content=body, headers=signed(body, clock))
    assert again.status_code == 200


async def test_a_lost_race_and_an_unlinked_user_are_told_and_nothing_changes(
    client: httpx.AsyncClient,
    linked: Oncall,
    engine: Engine,
    slack: FakeSlack,
    clock: FrozenClock,
    world: World,
) -> None:
    await _page_alice(client, linked, engine, slack)
    incident = await world.incident()
    bob = await linked.seed.as_user(linked.bob)
    assert (await bob.post(f"/api/v1/incidents/{incident.id}/acknowledge")).status_code == 200
    await engine.tick()
    slack.expect("chat.update", channel="D0ALICE")

    clock.advance(seconds=1)
    body = press_body(slack, "acknowledge", incident.id)
    assert (
        await client.post("/slack/interactions", content=body, headers=signed(body, clock))
    ).status_code == 200
    told = slack.expect_response()
    assert told["response_type"] == "ephemeral"
    assert told["text"] == "Incident #1 is already acknowledged by bob@example.com."

    clock.advance(seconds=1)
    stranger = press_body(slack, "resolve", incident.id, user="U0STRANGER")
    assert (
        await client.post("/slack/interactions", content=stranger, headers=signed(stranger, clock))
    ).status_code == 200
    assert "not linked" in slack.expect_response()["text"]
    assert (await world.incident()).status.value == "acknowledged"


@pytest.mark.parametrize(
    "headers",
    [
        pytest.param({"X-Slack-Signature": "v0=" + "0" * 64}, id="forged signature"),
        pytest.param({"X-Slack-Request-Timestamp": "1767600000"}, id="stale timestamp"),
        pytest.param({"X-Slack-Request-Timestamp": "9" * 40}, id="absurd timestamp"),
        pytest.param({"X-Slack-Request-Timestamp": "soon"}, id="not a number"),
        pytest.param({"X-Slack-Signature": ""}, id="no signature"),
    ],
)
async def test_a_request_slack_did_not_sign_is_refused_and_changes_nothing(
    client: httpx.AsyncClient,
    linked: Oncall,
    engine: Engine,
    slack: FakeSlack,
    clock: FrozenClock,
    world: World,
    headers: dict[str, str],
) -> None:
    await _page_alice(client, linked, engine, slack)
    incident = await world.incident()
    body = press_body(slack, "resolve", incident.id)
    refused = await client.post(
        "/slack/interactions", content=body, headers={**signed(body, clock), **headers}
    )
    assert refused.status_code == 401, refused.text
    assert refused.headers["content-type"] == "application/problem+json"
    assert (await world.incident()).status.value == "triggered"


async def test_a_body_that_is_not_utf8_is_refused_not_a_server_error(
    client: httpx.AsyncClient, linked: Oncall, clock: FrozenClock
) -> None:
    body = b"payload=\xff\xfe"
    headers = signed(b"payload=", clock)
    refused = await client.post("/slack/interactions", content=body, headers=headers)
    assert refused.status_code == 401


async def test_slash_commands_act_and_answer(
    client: httpx.AsyncClient,
    linked: Oncall,
    engine: Engine,
    slack: FakeSlack,
    clock: FrozenClock,
    world: World,
) -> None:
    await _page_alice(client, linked, engine, slack)

    async def command(text: str, user: str = "U0ALICE") -> str:
        clock.advance(seconds=1)  # each request is its own (a repeat would be a replay)
        body = command_body(text, user=user)
        answered = await client.post("/slack/commands", content=body, headers=signed(body, clock))
        assert answered.status_code == 200, answered.text
        assert answered.json()["response_type"] == "ephemeral"
        return str(answered.json()["text"])

    assert "/tocsin ack 123" in await command("help")
    assert "#1 [triggered] Disk full on db-1" in await command("incidents")
    assert await command("ack 1") == "Acknowledged incident #1: Disk full on db-1"
    assert await command("ack 1") == "Incident #1 is already acknowledged by alice@example.com."
    assert await command("resolve 99") == "There is no incident #99."
    assert await command("resolve one") == "Say which incident: `/tocsin resolve 123`."
    assert "not linked" in await command("resolve 1", user="U0STRANGER")
    assert (await world.incident()).status.value == "acknowledged"
    await engine.tick()
    slack.expect("chat.update", channel="D0ALICE")

    link = await command("link", user="U0BOB")
    url = re.search(r"http\S+", link)
    assert url is not None
    path = urlsplit(url.group(0))
    bob = await linked.seed.as_user(linked.bob)
    asked = await bob.get(f"{path.path}?{path.query}")
    assert asked.status_code == 200
    assert "Link this Slack account to you?" in asked.text
    token = re.search(r'name="csrf_token" value="([^"]+)"', asked.text)
    assert token is not None
    done = await bob.post(f"{path.path}?{path.query}", data={"csrf_token": token.group(1)})
    assert done.status_code == 200, done.text
    assert "Slack is linked" in done.text
    # Bob's press now acts as Bob.
    clock.advance(seconds=1)
    incident = await world.incident()
    body = press_body(slack, "resolve", incident.id, user="U0BOB")
    await client.post("/slack/interactions", content=body, headers=signed(body, clock))
    assert (await world.incident()).resolved_by == "bob@example.com"
    await engine.tick()
    resolved = slack.expect("chat.update", channel="D0ALICE")
    assert resolved.action_ids() == []

    # A link that expired, or was tampered with, links nobody.
    clock.advance(minutes=11)
    expired = await bob.get(f"{path.path}?{path.query}")
    assert "This link does not work" in expired.text


async def test_slack_throttling_is_honoured_and_an_acknowledgement_cancels_the_retry(
    client: httpx.AsyncClient,
    linked: Oncall,
    engine: Engine,
    slack: FakeSlack,
    clock: FrozenClock,
    world: World,
    database: Database,
) -> None:
    slack.rate_limit("chat.postMessage", retry_after=17)
    await send(client, linked.key, trigger("db-1/disk"))
    await engine.tick()
    slack.expect("chat.postMessage", channel="U0ALICE")  # the throttled attempt
    async with database.transaction() as session:
        delivery = await session.scalar(
            sa.select(Delivery).where(Delivery.kind == ChannelKind.SLACK)
        )
    assert delivery is not None
    assert delivery.status is DeliveryStatus.QUEUED
    assert delivery.next_attempt_at == clock.now() + timedelta(seconds=17)

    incident = await world.incident()
    bob = await linked.seed.as_user(linked.bob)
    assert (await bob.post(f"/api/v1/incidents/{incident.id}/acknowledge")).status_code == 200
    clock.advance(seconds=30)
    await engine.tick()
    async with database.transaction() as session:
        cancelled = await session.get(Delivery, delivery.id)
    assert cancelled is not None
    assert cancelled.status is DeliveryStatus.CANCELLED  # and no second post (strict fake)


async def test_a_revoked_token_fails_the_page_for_good_and_disables_the_method(
    client: httpx.AsyncClient,
    linked: Oncall,
    engine: Engine,
    slack: FakeSlack,
    database: Database,
) -> None:
    slack.refuse("chat.postMessage", "token_revoked")
    await send(client, linked.key, trigger("db-1/disk"))
    await engine.tick()
    slack.expect("chat.postMessage", channel="U0ALICE")
    async with database.transaction() as session:
        delivery = await session.scalar(
            sa.select(Delivery).where(Delivery.kind == ChannelKind.SLACK)
        )
        method = await session.scalar(
            sa.select(ContactMethod).where(ContactMethod.kind == ChannelKind.SLACK)
        )
    assert delivery is not None
    assert (delivery.status, delivery.error_code) == (DeliveryStatus.FAILED, "revoked")
    assert method is not None
    assert method.disabled_at is not None
    assert method.disabled_reason == "slack: Slack: token_revoked"
    alice = await linked.seed.as_user(linked.alice)
    listed = await alice.get("/api/v1/me/contact-methods")
    slack_method = next(m for m in listed.json() if m["kind"] == "slack")
    assert slack_method["disabled_reason"] == "slack: Slack: token_revoked"


async def test_incidents_are_posted_to_a_service_channel_and_kept_up_to_date(
    client: httpx.AsyncClient,
    linked: Oncall,
    engine: Engine,
    slack: FakeSlack,
    clock: FrozenClock,
    world: World,
    database: Database,
) -> None:
    ada = await linked.seed.user("Ada", email="ada@example.com", admin=True)
    platform = await linked.seed.as_user(ada)
    services = await platform.get("/api/v1/services")
    service_id = next(s["id"] for s in services.json()["items"] if s["name"] == "payments-api")
    refused = await platform.post(
        f"/api/v1/services/{service_id}/post-targets",
        json={"kind": "slack", "address": "#payments"},
    )
    assert refused.status_code == 422, refused.text
    assert "address" in refused.text
    added = await platform.post(
        f"/api/v1/services/{service_id}/post-targets",
        json={"kind": "slack", "address": "C0PAYMENTS", "label": "#payments-oncall"},
    )
    assert added.status_code == 201, added.text
    assert added.json()["address"] == "C0PAYMENTS"

    await _page_alice(client, linked, engine, slack)
    posted = slack.expect("chat.postMessage", channel="C0PAYMENTS")
    assert posted.action_ids() == ["acknowledge", "resolve", "escalate", "snooze"]

    incident = await world.incident()
    body = press_body(slack, "acknowledge", incident.id)
    await client.post("/slack/interactions", content=body, headers=signed(body, clock))
    await engine.tick()
    slack.expect("chat.update", channel="D0ALICE")
    edited = slack.expect("chat.update", channel="C0PAYMENTS")
    assert edited.arguments["ts"] == posted_ts(slack, posted)
    assert "Acknowledged by alice@example.com" in edited.all_text()
    reply = slack.expect("chat.postMessage", channel="C0PAYMENTS")
    assert reply.text == "Acknowledged by alice@example.com via Slack"
    assert reply.arguments["thread_ts"] == edited.arguments["ts"]


def posted_ts(slack: FakeSlack, posted: fake.Call) -> str:
    """The ts Slack gave the post (the fake records calls, and answers in order)."""
    return slack.ts_of[id(posted)]


async def test_an_uninstalled_app_disables_its_workspace(
    client: httpx.AsyncClient,
    linked: Oncall,
    engine: Engine,
    slack: FakeSlack,
    clock: FrozenClock,
    database: Database,
) -> None:
    event = json.dumps(
        {
            "type": "event_callback",
            "team_id": fake.TEAM_ID,
            "event": {"type": "app_uninstalled"},
        }
    ).encode()
    headers = {**signed(event, clock), "Content-Type": "application/json"}
    answered = await client.post("/slack/events", content=event, headers=headers)
    assert answered.status_code == 200
    async with database.transaction() as session:
        workspace = await session.get(SlackWorkspace, fake.TEAM_ID)
    assert workspace is not None
    assert workspace.disabled_reason == "Slack: app_uninstalled"

    await send(client, linked.key, trigger("db-1/disk"))
    clock.advance(minutes=1)  # past the channel's memory of the token
    await engine.tick()
    async with database.transaction() as session:
        delivery = await session.scalar(
            sa.select(Delivery).where(Delivery.kind == ChannelKind.SLACK)
        )
    assert delivery is not None
    assert delivery.status is DeliveryStatus.FAILED
    assert delivery.error_detail == f"tocsin is not installed in Slack workspace {fake.TEAM_ID}"

    challenge = json.dumps({"type": "url_verification", "challenge": "abc123"}).encode()
    headers = {**signed(challenge, clock), "Content-Type": "application/json"}
    answered = await client.post("/slack/events", content=challenge, headers=headers)
    assert answered.json() == {"challenge": "abc123"}


async def test_a_team_admin_installs_slack_and_the_state_is_single_use_and_theirs(
    client: httpx.AsyncClient,
    oncall: Oncall,
    slack: FakeSlack,
    database: Database,
) -> None:
    ada = await oncall.seed.user("Ada", email="ada@example.com")
    await oncall.seed.team("Platform", [(ada, TeamRole.ADMIN)])
    admin = await oncall.seed.as_user(ada)
    bob = await oncall.seed.as_user(oncall.bob)
    assert (await bob.get("/slack/install")).status_code == 403  # a responder only

    started = await admin.get("/slack/install")
    assert started.status_code == 303
    location = urlsplit(started.headers["location"])
    assert (location.netloc, location.path) == ("slack.com", "/oauth/v2/authorize")
    query = parse_qs(location.query)
    assert query["client_id"] == [fake.CLIENT_ID]
    assert query["redirect_uri"] == ["https://tocsin.test/slack/oauth/callback"]
    state = query["state"][0]

    stolen = await bob.get(f"/slack/oauth/callback?code=c0de&state={state}")
    assert stolen.status_code == 400  # another person's state
    used = await admin.get(f"/slack/oauth/callback?code=c0de&state={state}")
    assert used.status_code == 400  # the attempt above used it up

    started = await admin.get("/slack/install")
    state = parse_qs(urlsplit(started.headers["location"]).query)["state"][0]
    installed = await admin.get(f"/slack/oauth/callback?code=c0de&state={state}")
    assert installed.status_code == 200, installed.text
    assert "tocsin is installed in Tocsin Test" in installed.text
    exchange = slack.expect("oauth.v2.access", code="c0de")
    assert exchange.arguments["redirect_uri"] == "https://tocsin.test/slack/oauth/callback"
    async with database.transaction() as session:
        workspace = await session.get(SlackWorkspace, fake.TEAM_ID)
    assert workspace is not None
    assert fake.BOT_TOKEN not in workspace.bot_token_encrypted
    assert CIPHER.decrypt(workspace.bot_token_encrypted) == fake.BOT_TOKEN
    replayed = await admin.get(f"/slack/oauth/callback?code=c0de&state={state}")
    assert replayed.status_code == 400
