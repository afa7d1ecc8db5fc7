"""SMS through Vonage, and failover between Twilio and Vonage: a fake Vonage over HTTPS
(the SDK speaks nothing else), webhooks signed with the SDK's own ``Auth.sign_params``,
a real PostgreSQL and a frozen clock. The fakes are strict: an unclaimed text fails."""

from __future__ import annotations

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
from tocsin.db.models.deliveries import Delivery, ProviderCircuit
from tocsin.db.session import Database
from tocsin.domain.channels import ChannelKind
from tocsin.domain.circuits import CircuitState
from tocsin.domain.deliveries import DeliveryStatus
from tocsin.engine.loop import Engine

ALICE = "+15555550100"


VONAGE = {
    "vonage_api_key": fake.API_KEY,
    "vonage_api_secret": SecretStr(fake.API_SECRET),
    "vonage_from": "+" + fake.SENDER,
    "vonage_signature_secret": SecretStr(fake.SIGNATURE_SECRET),
}


@pytest.fixture
def settings(settings: Settings, vonage: FakeVonage, twilio: FakeTwilio) -> Settings:
    """Twilio first, Vonage second."""
    return settings.model_copy(
        update={
            **VONAGE,
            "vonage_rest_host": vonage.rest_host,
            "twilio_account_sid": fake_twilio.ACCOUNT_SID,
            "twilio_auth_token": SecretStr(fake_twilio.AUTH_TOKEN),
            "twilio_messaging_service_sid": fake_twilio.MESSAGING_SERVICE_SID,
            "twilio_api_url": twilio.api_url,
        }
    )


@pytest.fixture
def engine(settings_engine: Engine) -> Engine:
    return settings_engine


@pytest.fixture
async def phone(oncall: Oncall) -> Oncall:
    await oncall.seed.verified_method(oncall.alice, ChannelKind.SMS, ALICE, "mobile")
    return oncall


async def _page(
    client: httpx.AsyncClient, oncall: Oncall, engine: Engine, clock: FrozenClock, n: int
) -> None:
    await send(client, oncall.key, trigger(f"db-{n}/disk"))
    await engine.tick()
    clock.advance(minutes=2)
    await engine.tick()


async def test_twilio_down_vonage_sends_the_breaker_opens_and_later_closes(
    client: httpx.AsyncClient,
    phone: Oncall,
    engine: Engine,
    clock: FrozenClock,
    twilio: FakeTwilio,
    vonage: FakeVonage,
    database: Database,
) -> None:
    for number in range(1, 4):
        twilio.refuse(500, 20500, "Internal Server Error")
        await _page(client, phone, engine, clock, number)
        text = vonage.expect(ALICE.lstrip("+"))
        assert text.body.startswith(f"tocsin #{number} [CRITICAL]")
    async with database.transaction() as session:
        breaker = await session.get(ProviderCircuit, "twilio")
        deliveries = (
            await session.scalars(sa.select(Delivery).where(Delivery.kind == ChannelKind.SMS))
        ).all()
    assert breaker is not None
    assert breaker.state is CircuitState.OPEN
    assert {d.provider for d in deliveries} == {"vonage"}
    assert all(d.status is DeliveryStatus.SENT for d in deliveries)

    # While Twilio's circuit is open, texts go straight to Vonage (Twilio sees nothing):
    # a new number's code, sent at once.
    alice = await phone.seed.as_user(phone.alice)
    added = await alice.post(
        "/api/v1/me/contact-methods", json={"kind": "sms", "address": "+1 415 555 0123"}
    )
    assert added.status_code == 201, added.text
    await engine.tick()
    assert vonage.expect("14155550123").body.startswith("Your tocsin code is ")
    # Later Twilio is tried again, answers, and its circuit closes.
    await _page(client, phone, engine, clock, 4)
    assert twilio.expect(ALICE).body.startswith("tocsin #4 ")
    async with database.transaction() as session:
        breaker = await session.get(ProviderCircuit, "twilio")
    assert breaker is not None
    assert breaker.state is CircuitState.CLOSED


async def test_a_reply_through_vonage_acknowledges_and_is_answered_by_text(
    client: httpx.AsyncClient,
    phone: Oncall,
    engine: Engine,
    clock: FrozenClock,
    twilio: FakeTwilio,
    vonage: FakeVonage,
    world: World,
) -> None:
    twilio.refuse(500, 20500, "Internal Server Error")
    await _page(client, phone, engine, clock, 1)
    vonage.expect(ALICE.lstrip("+"))
    reply = fake.signed(
        {
            "msisdn": ALICE.lstrip("+"),
            "to": fake.SENDER,
            "messageId": "0A1",
            "text": "1A",
            "type": "text",
            "keyword": "1A",
            "message-timestamp": "2026-01-05 09:02:00",
        }
    )
    answered = await client.post("/vonage/sms", data=reply)
    assert answered.status_code == 204, answered.text
    assert (await world.incident()).acknowledged_by == "alice@example.com"
    assert vonage.expect(ALICE.lstrip("+")).body == "tocsin #1 acknowledged."
    # The same request again is answered too, and changes nothing more.
    again = await client.get("/vonage/sms", params=reply)
    assert again.status_code == 204
    assert "already acknowledged" in vonage.expect(ALICE.lstrip("+")).body


@pytest.mark.parametrize("tamper", ["sig", "text", "timestamp"])
async def test_a_vonage_webhook_not_signed_by_vonage_is_refused(
    client: httpx.AsyncClient,
    phone: Oncall,
    engine: Engine,
    clock: FrozenClock,
    twilio: FakeTwilio,
    vonage: FakeVonage,
    world: World,
    tamper: str,
) -> None:
    await _page(client, phone, engine, clock, 1)
    twilio.expect(ALICE)
    reply = fake.signed({"msisdn": ALICE.lstrip("+"), "to": fake.SENDER, "text": "1A"})
    reply[tamper] = {"sig": "0" * 64, "text": "1R", "timestamp": "1000000000"}[tamper]
    refused = await client.post("/vonage/sms", data=reply)
    assert refused.status_code == 403
    assert refused.headers["content-type"] == "application/problem+json"
    assert (await world.incident()).status.value == "triggered"


async def test_a_vonage_delivery_receipt_fails_the_text_once(
    client: httpx.AsyncClient,
    phone: Oncall,
    engine: Engine,
    clock: FrozenClock,
    twilio: FakeTwilio,
    vonage: FakeVonage,
    database: Database,
) -> None:
    twilio.refuse(500, 20500, "Internal Server Error")
    await _page(client, phone, engine, clock, 1)
    text = vonage.expect(ALICE.lstrip("+"))
    receipt = {
        "msisdn": ALICE.lstrip("+"),
        "to": fake.SENDER,
        "messageId": text.message_id,
        "status": "failed",
        "err-code": "5",
    }
    for _ in range(2):
        answered = await client.post("/vonage/status", json=fake.signed(receipt))
        assert answered.status_code == 204
    async with database.transaction() as session:
        delivery = await session.scalar(sa.select(Delivery).where(Delivery.kind == ChannelKind.SMS))
    assert delivery is not None
    assert delivery.status is DeliveryStatus.FAILED
    assert delivery.error_detail == "Vonage: failed 5"


async def test_a_barred_number_fails_for_good_and_is_disabled(
    client: httpx.AsyncClient,
    phone: Oncall,
    engine: Engine,
    clock: FrozenClock,
    twilio: FakeTwilio,
    vonage: FakeVonage,
    database: Database,
) -> None:
    twilio.refuse(500, 20500, "Internal Server Error")
    vonage.refuse("7")
    await _page(client, phone, engine, clock, 1)
    async with database.transaction() as session:
        delivery = await session.scalar(sa.select(Delivery).where(Delivery.kind == ChannelKind.SMS))
    assert delivery is not None
    assert delivery.error_code == "opted_out"
