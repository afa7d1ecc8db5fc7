"""The Teams bot, end to end: a fake Bot Connector over loopback (token endpoint, signing
keys, conversations API), requests to ``/teams/messages`` signed with the fake's key and
checked by the Agents SDK's own validator, a real PostgreSQL and a frozen clock.

The fake is strict (``tests/fakes/bot_connector.py``): a message nobody claims (a
duplicate page, an update with nothing changed) fails the test at teardown.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
import sqlalchemy as sa
from cryptography.hazmat.primitives.asymmetric import rsa
from pydantic import SecretStr

from tests.fakes import bot_connector as fake
from tests.fakes.bot_connector import FakeBotConnector, Received
from tests.notify.conftest import Oncall
from tests.scenarios.conftest import World, send, trigger
from tocsin.actions.actors import system_actor
from tocsin.clock import FrozenClock
from tocsin.config import Settings
from tocsin.db.models.audit import AuditEvent
from tocsin.db.models.contact_methods import ContactMethod
from tocsin.db.models.deliveries import Delivery
from tocsin.db.models.teams_bot import TeamsConversation
from tocsin.db.session import Database
from tocsin.domain.channels import ChannelKind
from tocsin.domain.deliveries import DeliveryStatus
from tocsin.engine.loop import Engine
from tocsin.notify.channels.teams.bot import conversations

ALICE = {"aad": "aad-alice", "id": "29:alice", "conversation": "a:alice"}
BOB = {"aad": "aad-bob", "id": "29:bob", "conversation": "a:bob"}


@pytest.fixture
def connector() -> Iterator[FakeBotConnector]:
    server = FakeBotConnector()
    server.start()
    try:
        yield server
    finally:
        server.stop()
    assert server.unexpected() == [], f"unexpected Bot Connector traffic: {server.unexpected()}"


@pytest.fixture
def settings(settings: Settings, connector: FakeBotConnector) -> Settings:
    return settings.model_copy(
        update={
            "teams_app_id": fake.APP_ID,
            "teams_app_password": SecretStr(fake.APP_PASSWORD),
            "teams_tenant_id": fake.TENANT_ID,
            "teams_token_url": connector.token_url,
            "teams_keys_url": connector.keys_url,
        }
    )


@pytest.fixture
def engine(settings_engine: Engine) -> Engine:
    return settings_engine


def activity(
    connector: FakeBotConnector, kind: str, person: dict[str, str], **extra: Any
) -> dict[str, Any]:
    connector.open_conversation(person["conversation"])
    return {
        "type": kind,
        "id": f"f:{kind}-{person['aad']}",
        "channelId": "msteams",
        "serviceUrl": connector.service_url,
        "from": {"id": person["id"], "aadObjectId": person["aad"], "name": person["aad"]},
        "recipient": {"id": fake.BOT_ID, "name": "tocsin"},
        "conversation": {
            "id": person["conversation"],
            "conversationType": "personal",
            "tenantId": fake.TENANT_ID,
        },
        "channelData": {"tenant": {"id": fake.TENANT_ID}},
        **extra,
    }


async def deliver(
    client: httpx.AsyncClient, connector: FakeBotConnector, body: dict[str, Any], **claims: Any
) -> httpx.Response:
    token = connector.sign(**claims)
    return await client.post(
        "/teams/messages", json=body, headers={"Authorization": f"Bearer {token}"}
    )


async def install(
    client: httpx.AsyncClient, connector: FakeBotConnector, person: dict[str, str]
) -> Received:
    added = activity(
        connector,
        "conversationUpdate",
        person,
        membersAdded=[{"id": fake.BOT_ID}, {"id": person["id"]}],
    )
    answered = await deliver(client, connector, added)
    assert answered.status_code in (200, 202), answered.text
    return connector.expect("reply", conversation_id=person["conversation"])


def press(
    connector: FakeBotConnector, person: dict[str, str], verb: str, incident_id: object
) -> dict[str, Any]:
    return activity(
        connector,
        "invoke",
        person,
        name="adaptiveCard/action",
        value={
            "action": {
                "type": "Action.Execute",
                "verb": verb,
                "data": {"incident": str(incident_id)},
            },
            "trigger": "manual",
        },
    )


@pytest.fixture
async def linked(
    client: httpx.AsyncClient,
    oncall: Oncall,
    connector: FakeBotConnector,
    database: Database,
    clock: FrozenClock,
) -> Oncall:
    """Alice installed the bot and is linked."""
    await install(client, connector, ALICE)
    async with database.transaction() as session:
        await conversations.link(
            session,
            actor=system_actor("test"),
            user=oncall.alice,
            tenant_id=fake.TENANT_ID,
            aad_object_id=ALICE["aad"],
            now=clock.now(),
        )
    return oncall


async def page_alice(
    client: httpx.AsyncClient, oncall: Oncall, engine: Engine, connector: FakeBotConnector
) -> Received:
    await send(client, oncall.key, trigger("db-1/disk"))
    await engine.tick()
    return connector.expect("send", conversation_id=ALICE["conversation"])


async def teams_delivery(database: Database) -> Delivery:
    async with database.transaction() as session:
        delivery = await session.scalar(
            sa.select(Delivery).where(Delivery.kind == ChannelKind.TEAMS)
        )
    assert delivery is not None
    return delivery


async def test_installing_keeps_the_conversation_and_link_makes_it_a_contact_method(
    client: httpx.AsyncClient,
    oncall: Oncall,
    connector: FakeBotConnector,
    database: Database,
    clock: FrozenClock,
) -> None:
    welcome = await install(client, connector, BOB)
    assert "Type **link**" in welcome.text
    async with database.transaction() as session:
        kept = await session.get(TeamsConversation, (fake.TENANT_ID, BOB["aad"]))
    assert kept is not None
    assert (kept.conversation_id, kept.service_url) == (BOB["conversation"], connector.service_url)
    assert kept.bot_id == fake.BOT_ID

    asked = await deliver(client, connector, activity(connector, "message", BOB, text="link"))
    assert asked.status_code in (200, 202), asked.text
    answer = connector.expect("reply", conversation_id=BOB["conversation"])
    url = re.search(r"http\S+", answer.text)
    assert url is not None
    path = urlsplit(url.group(0))
    bob = await oncall.seed.as_user(oncall.bob)
    opened = await bob.get(f"{path.path}?{path.query}")
    assert "Link this Teams account to you?" in opened.text
    token = re.search(r'name="csrf_token" value="([^"]+)"', opened.text)
    assert token is not None
    done = await bob.post(f"{path.path}?{path.query}", data={"csrf_token": token.group(1)})
    assert done.status_code == 200, done.text
    assert "Teams is linked" in done.text
    async with database.transaction() as session:
        method = await session.scalar(
            sa.select(ContactMethod).where(ContactMethod.kind == ChannelKind.TEAMS)
        )
    assert method is not None
    assert method.user_id == oncall.bob.id
    assert method.verified_at is not None
    assert method.details["conversation_id"] == BOB["conversation"]

    clock.advance(minutes=11)
    expired = await bob.get(f"{path.path}?{path.query}")
    assert "This link does not work" in expired.text


async def test_a_page_is_a_card_whose_button_acknowledges_in_place_as_the_person(
    client: httpx.AsyncClient,
    linked: Oncall,
    engine: Engine,
    connector: FakeBotConnector,
    world: World,
    database: Database,
) -> None:
    page = await page_alice(client, linked, engine, connector)
    assert page.body["summary"] == "[CRITICAL] #1 Disk full on db-1 on payments-api"
    assert page.verbs() == ["acknowledge", "resolve", "escalate"]
    incident = await world.incident()
    delivery = await teams_delivery(database)
    assert delivery.status is DeliveryStatus.SENT
    assert delivery.provider_message_id == "1:activity-2"  # the welcome reply was 1

    pressed = await deliver(client, connector, press(connector, ALICE, "acknowledge", incident.id))
    assert pressed.status_code == 200, pressed.text
    answer = pressed.json()
    assert (answer["statusCode"], answer["type"]) == (
        200,
        "application/vnd.microsoft.card.adaptive",
    )
    assert "Acknowledged by alice@example.com" in str(answer["value"])
    assert [a.get("verb") for a in answer["value"]["actions"][1:]] == ["resolve", "escalate"]
    acknowledged = await world.incident()
    assert acknowledged.status.value == "acknowledged"
    async with database.transaction() as session:
        event = await session.scalar(
            sa.select(AuditEvent).where(AuditEvent.action == "incident.acknowledged")
        )
    assert event is not None
    assert (event.details["via"], event.actor_id) == ("teams", linked.alice.id)

    # The follow-up lane brings the sent card in step too (for the other devices).
    await engine.tick()
    updated = connector.expect("update", conversation_id=ALICE["conversation"])
    assert updated.activity_id == delivery.provider_message_id
    assert "Acknowledged by alice@example.com" in updated.card_text()


async def test_a_lost_race_and_an_unlinked_person_change_nothing_and_are_told(
    client: httpx.AsyncClient,
    linked: Oncall,
    engine: Engine,
    connector: FakeBotConnector,
    world: World,
) -> None:
    await page_alice(client, linked, engine, connector)
    incident = await world.incident()
    bob = await linked.seed.as_user(linked.bob)
    assert (await bob.post(f"/api/v1/incidents/{incident.id}/acknowledge")).status_code == 200
    await engine.tick()
    connector.expect("update", conversation_id=ALICE["conversation"])

    late = await deliver(client, connector, press(connector, ALICE, "acknowledge", incident.id))
    assert late.status_code == 200
    assert "already acknowledged by bob@example.com" in str(late.json()["value"])

    await install(client, connector, BOB)  # installed, never linked
    stranger = await deliver(client, connector, press(connector, BOB, "resolve", incident.id))
    assert stranger.status_code == 200
    assert "not linked to a tocsin account" in str(stranger.json()["value"])
    assert (await world.incident()).status.value == "acknowledged"


async def test_throttling_makes_the_page_due_again_when_bot_connector_says(
    client: httpx.AsyncClient,
    linked: Oncall,
    engine: Engine,
    connector: FakeBotConnector,
    clock: FrozenClock,
    database: Database,
) -> None:
    connector.answer(429, {"Retry-After": "17"})
    await page_alice(client, linked, engine, connector)  # the throttled attempt
    delivery = await teams_delivery(database)
    assert delivery.status is DeliveryStatus.QUEUED
    assert delivery.next_attempt_at == clock.now() + timedelta(seconds=17)
    clock.advance(seconds=17)
    await engine.tick()
    connector.expect("send", conversation_id=ALICE["conversation"])
    assert (await teams_delivery(database)).status is DeliveryStatus.SENT


async def test_forbidden_fails_the_page_for_good_and_disables_the_method(
    client: httpx.AsyncClient,
    linked: Oncall,
    engine: Engine,
    connector: FakeBotConnector,
    database: Database,
) -> None:
    connector.answer(403)
    await page_alice(client, linked, engine, connector)
    delivery = await teams_delivery(database)
    assert (delivery.status, delivery.error_code) == (DeliveryStatus.FAILED, "revoked")
    alice = await linked.seed.as_user(linked.alice)
    listed = await alice.get("/api/v1/me/contact-methods")
    method = next(m for m in listed.json() if m["kind"] == "teams")
    assert method["disabled_reason"] == "teams: Teams: Bot Connector answered 403"
    page = await alice.get("/profile/notifications")
    assert "disabled: teams: Teams: Bot Connector answered 403" in page.text
    assert "type <code>link</code> in its chat" in page.text


async def test_removing_the_bot_disables_the_method_and_adding_it_back_enables_it(
    client: httpx.AsyncClient,
    linked: Oncall,
    connector: FakeBotConnector,
    database: Database,
) -> None:
    removed = activity(connector, "installationUpdate", ALICE, action="remove")
    assert (await deliver(client, connector, removed)).status_code in (200, 202)
    async with database.transaction() as session:
        method = await session.scalar(
            sa.select(ContactMethod).where(ContactMethod.kind == ChannelKind.TEAMS)
        )
    assert method is not None
    assert method.disabled_reason == conversations.UNINSTALLED
    await install(client, connector, ALICE)
    async with database.transaction() as session:
        method = await session.scalar(
            sa.select(ContactMethod).where(ContactMethod.kind == ChannelKind.TEAMS)
        )
    assert method is not None
    assert method.disabled_at is None


@pytest.mark.parametrize(
    "claims",
    [
        pytest.param(
            {"key": rsa.generate_private_key(public_exponent=65537, key_size=2048)},
            id="another key",
        ),
        pytest.param({"aud": "someone-else"}, id="another audience"),
        pytest.param({"iss": "https://evil.example"}, id="another issuer"),
        pytest.param({"exp": 1_000_000_000, "nbf": 999_999_000}, id="expired"),
        pytest.param({"serviceurl": "https://evil.example/"}, id="another service url"),
    ],
)
async def test_a_request_bot_connector_did_not_sign_is_refused_and_changes_nothing(
    client: httpx.AsyncClient,
    linked: Oncall,
    engine: Engine,
    connector: FakeBotConnector,
    world: World,
    claims: dict[str, Any],
) -> None:
    await page_alice(client, linked, engine, connector)
    incident = await world.incident()
    refused = await deliver(
        client, connector, press(connector, ALICE, "resolve", incident.id), **claims
    )
    assert refused.status_code == 401, refused.text
    assert refused.headers["content-type"] == "application/problem+json"
    unsigned = await client.post(
        "/teams/messages", json=press(connector, ALICE, "resolve", incident.id)
    )
    assert unsigned.status_code == 401
    assert (await world.incident()).status.value == "triggered"


async def test_a_signed_body_that_is_no_activity_is_a_problem_not_a_server_error(
    client: httpx.AsyncClient, oncall: Oncall, connector: FakeBotConnector
) -> None:
    token = connector.sign()
    for body in (b"{not json", b'{"type": "message", "conversation": 5}'):
        answered = await client.post(
            "/teams/messages",
            content=body,
            headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        )
        assert answered.status_code == 422, answered.text
        assert answered.headers["content-type"] == "application/problem+json"
        assert "body" in answered.text


async def test_a_person_of_another_tenant_is_refused(
    client: httpx.AsyncClient, oncall: Oncall, connector: FakeBotConnector, database: Database
) -> None:
    body = activity(connector, "message", BOB, text="link")
    body["conversation"]["tenantId"] = "22222222-2222-4222-8222-222222222222"
    refused = await deliver(client, connector, body)
    assert refused.status_code == 403, refused.text
    async with database.transaction() as session:
        assert await session.scalar(sa.select(sa.func.count()).select_from(TeamsConversation)) == 0


async def test_escalate_pages_the_next_level_now_and_the_card_says_so(
    client: httpx.AsyncClient,
    linked: Oncall,
    engine: Engine,
    connector: FakeBotConnector,
    world: World,
    clock: FrozenClock,
) -> None:
    await page_alice(client, linked, engine, connector)
    incident = await world.incident()
    pressed = await deliver(client, connector, press(connector, ALICE, "escalate", incident.id))
    assert pressed.status_code == 200, pressed.text
    card = pressed.json()["value"]
    assert "[ESCALATION - Level 2]" in str(card["body"])
    escalated = await world.incident()
    assert (escalated.status.value, escalated.escalation_level) == ("triggered", 2)
    await engine.tick()
    connector.expect("update", conversation_id=ALICE["conversation"])
