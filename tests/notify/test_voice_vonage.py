"""Voice through Vonage, and failover from Twilio: a fake Vonage Voice API over HTTPS that
checks the application's JWT and each call, tocsin's NCCO read back, Vonage's webhooks
signed with a JWT over their body, a real PostgreSQL and a frozen clock."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from pydantic import SecretStr

from tests.fakes import twilio as fake_twilio
from tests.fakes import vonage as fake
from tests.fakes.twilio import FakeTwilio
from tests.fakes.vonage import FakeVonage
from tests.notify.conftest import Oncall
from tests.scenarios.conftest import World, send, trigger
from tocsin.clock import FrozenClock
from tocsin.config import Settings
from tocsin.db.models.audit import AuditEvent
from tocsin.db.models.deliveries import Delivery
from tocsin.db.session import Database
from tocsin.domain.channels import ChannelKind
from tocsin.domain.deliveries import DeliveryStatus
from tocsin.engine.loop import Engine

ALICE = "+15555550100"


@pytest.fixture
def settings(settings: Settings, vonage: FakeVonage, twilio: FakeTwilio) -> Settings:
    """Calls through Twilio first, Vonage second."""
    return settings.model_copy(
        update={
            "vonage_application_id": fake.APPLICATION_ID,
            "vonage_private_key": SecretStr(fake.PRIVATE_KEY),
            "vonage_from": "+" + fake.SENDER,
            "vonage_signature_secret": SecretStr(fake.SIGNATURE_SECRET),
            "vonage_api_host": vonage.rest_host,
            "twilio_account_sid": fake_twilio.ACCOUNT_SID,
            "twilio_auth_token": SecretStr(fake_twilio.AUTH_TOKEN),
            "twilio_from_number": "+15555559999",
            "twilio_api_url": twilio.api_url,
        }
    )


@pytest.fixture
def engine(settings_engine: Engine) -> Engine:
    return settings_engine


async def _called(
    client: httpx.AsyncClient,
    oncall: Oncall,
    engine: Engine,
    clock: FrozenClock,
    twilio: FakeTwilio,
    vonage: FakeVonage,
) -> fake.Call:
    """Twilio refuses the call (500): it goes to Vonage in the same attempt."""
    await oncall.seed.verified_method(oncall.alice, ChannelKind.VOICE, ALICE, "mobile")
    await send(client, oncall.key, trigger("db-1/disk"))
    await engine.tick()
    twilio.refuse(500, 20500, "Internal Server Error")
    clock.advance(minutes=4, seconds=59)
    await engine.tick()
    clock.advance(seconds=1)
    await engine.tick()
    return vonage.expect_call(ALICE.lstrip("+"))


async def _webhook(
    client: httpx.AsyncClient, path: str, body: dict[str, Any] | None = None
) -> httpx.Response:
    if body is None:
        return await client.get(path, headers=fake.voice_headers())
    raw = json.dumps(body).encode()
    return await client.post(path, content=raw, headers=fake.voice_headers(raw))


async def _delivery(database: Database) -> Delivery:
    async with database.transaction() as session:
        delivery = await session.scalar(
            sa.select(Delivery).where(Delivery.kind == ChannelKind.VOICE)
        )
    assert delivery is not None
    return delivery


async def test_a_call_twilio_could_not_place_goes_through_vonage_and_1_acknowledges(
    client: httpx.AsyncClient,
    oncall: Oncall,
    engine: Engine,
    clock: FrozenClock,
    twilio: FakeTwilio,
    vonage: FakeVonage,
    world: World,
    database: Database,
) -> None:
    call = await _called(client, oncall, engine, clock, twilio, vonage)
    assert (await _delivery(database)).provider == "vonage"
    answered = await _webhook(client, call.answer_path)
    assert answered.status_code == 200, answered.text
    talk, menu = answered.json()
    assert talk["action"] == "talk"
    assert "Incident 1, on payments-api: Disk full on db-1." in talk["text"]
    assert "Press 1 to acknowledge." in talk["text"]
    assert menu["action"] == "input"
    assert menu["type"] == ["dtmf"]
    assert menu["dtmf"]["maxDigits"] == 1
    human = await _webhook(client, call.events_path, {"uuid": call.uuid, "status": "human"})
    assert human.status_code == 204
    assert (await _delivery(database)).status is DeliveryStatus.DELIVERED

    keys = str(menu["eventUrl"][0]).removeprefix(fake_twilio.PUBLIC_URL)
    pressed = await _webhook(
        client, keys, {"uuid": call.uuid, "dtmf": {"digits": "1", "timed_out": False}}
    )
    assert pressed.json() == [{"action": "talk", "text": "Incident 1 acknowledged. Goodbye."}]
    assert (await world.incident()).acknowledged_by == "alice@example.com"
    async with database.transaction() as session:
        event = await session.scalar(
            sa.select(AuditEvent).where(AuditEvent.action == "incident.acknowledged")
        )
    assert event is not None
    assert event.details["via"] == "voice"


async def test_a_machine_gets_the_voicemail_and_the_call_counts_as_not_answered_once(
    client: httpx.AsyncClient,
    oncall: Oncall,
    engine: Engine,
    clock: FrozenClock,
    twilio: FakeTwilio,
    vonage: FakeVonage,
    database: Database,
) -> None:
    call = await _called(client, oncall, engine, clock, twilio, vonage)
    await _webhook(client, call.answer_path)
    for _ in range(2):
        machine = await _webhook(
            client,
            call.events_path,
            {"uuid": call.uuid, "status": "machine", "sub_state": "beep_start"},
        )
        assert machine.status_code == 204
    delivery = await _delivery(database)
    assert delivery.status is DeliveryStatus.FAILED
    assert delivery.error_code == "not_answered"
    uuid, transfer = vonage.transfers[0]
    assert uuid == call.uuid
    assert transfer["action"] == "transfer"
    spoken = transfer["destination"]["ncco"][0]["text"]
    assert spoken.startswith("This is tocsin with a critical priority page: incident 1")
    ended = await _webhook(client, call.events_path, {"uuid": call.uuid, "status": "completed"})
    assert ended.status_code == 204
    assert (await _delivery(database)).status is DeliveryStatus.FAILED


async def test_an_unanswered_vonage_call_fails_as_not_answered(
    client: httpx.AsyncClient,
    oncall: Oncall,
    engine: Engine,
    clock: FrozenClock,
    twilio: FakeTwilio,
    vonage: FakeVonage,
    database: Database,
) -> None:
    call = await _called(client, oncall, engine, clock, twilio, vonage)
    for _ in range(2):
        await _webhook(client, call.events_path, {"uuid": call.uuid, "status": "unanswered"})
    delivery = await _delivery(database)
    assert delivery.status is DeliveryStatus.FAILED
    assert delivery.error_detail == "Vonage: no answer"


@pytest.mark.parametrize("forgery", ["none", "other secret", "other body"])
async def test_a_vonage_voice_webhook_not_signed_by_vonage_is_refused(
    client: httpx.AsyncClient,
    oncall: Oncall,
    engine: Engine,
    clock: FrozenClock,
    twilio: FakeTwilio,
    vonage: FakeVonage,
    world: World,
    forgery: str,
) -> None:
    call = await _called(client, oncall, engine, clock, twilio, vonage)
    keys = call.answer_path.replace("/answer?", "/keys?")
    raw = json.dumps({"uuid": call.uuid, "dtmf": {"digits": "1"}}).encode()
    headers = {
        "none": {"Content-Type": "application/json"},
        "other secret": {
            "Authorization": "Bearer eyJhbGciOiJIUzI1NiJ9.eyJpYXQiOjE3MDAwMDAwMDB9.x",
            "Content-Type": "application/json",
        },
        "other body": fake.voice_headers(b'{"uuid": "x"}'),
    }[forgery]
    refused = await client.post(keys, content=raw, headers=headers)
    assert refused.status_code == 403
    assert refused.headers["content-type"] == "application/problem+json"
    assert (await world.incident()).status.value == "triggered"
