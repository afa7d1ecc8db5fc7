"""SMS, end to end: a fake Twilio over loopback, replies and status callbacks signed with
``twilio``'s own ``RequestValidator``, a real PostgreSQL and a frozen clock. The fake is
strict: an unclaimed text (a duplicate, a text to an opted-out number) fails the test."""

from __future__ import annotations

import re
import uuid
from urllib.parse import urlencode

import httpx
import pytest
import sqlalchemy as sa
from pydantic import SecretStr

from tests.fakes import twilio as fake
from tests.fakes.twilio import FakeTwilio
from tests.notify.conftest import Oncall
from tests.scenarios.conftest import World, send, trigger
from tocsin.clock import FrozenClock
from tocsin.config import Settings
from tocsin.db.models.audit import AuditEvent
from tocsin.db.models.contact_methods import ContactMethod
from tocsin.db.models.deliveries import Delivery
from tocsin.db.session import Database
from tocsin.domain.channels import ChannelKind
from tocsin.domain.deliveries import DeliveryStatus, Purpose
from tocsin.engine.loop import Engine

ALICE = "+15555550100"


@pytest.fixture
def settings(settings: Settings, twilio: FakeTwilio) -> Settings:
    assert settings.base_url == fake.PUBLIC_URL
    return settings.model_copy(
        update={
            "twilio_account_sid": fake.ACCOUNT_SID,
            "twilio_auth_token": SecretStr(fake.AUTH_TOKEN),
            "twilio_messaging_service_sid": fake.MESSAGING_SERVICE_SID,
            "twilio_api_url": twilio.api_url,
        }
    )


@pytest.fixture
def engine(settings_engine: Engine) -> Engine:
    return settings_engine


@pytest.fixture
async def phone(oncall: Oncall) -> Oncall:
    """Alice has a verified phone (her default rules text her 2 minutes into a page)."""
    await oncall.seed.verified_method(oncall.alice, ChannelKind.SMS, ALICE, "mobile")
    return oncall


async def _texted(
    client: httpx.AsyncClient,
    oncall: Oncall,
    engine: Engine,
    clock: FrozenClock,
    twilio: FakeTwilio,
) -> fake.Text:
    await send(client, oncall.key, trigger("db-1/disk"))
    await engine.tick()
    clock.advance(minutes=2)
    await engine.tick()
    return twilio.expect(ALICE)


def _reply(body: str, sender: str = ALICE) -> dict[str, str]:
    return {
        "MessageSid": "SM" + uuid.uuid4().hex,
        "AccountSid": fake.ACCOUNT_SID,
        "From": sender,
        "To": "+15555559999",
        "Body": body,
        "NumMedia": "0",
    }


async def test_a_page_is_one_gsm7_segment_and_a_reply_acknowledges_as_the_person(
    client: httpx.AsyncClient,
    phone: Oncall,
    engine: Engine,
    clock: FrozenClock,
    twilio: FakeTwilio,
    world: World,
    database: Database,
) -> None:
    text = await _texted(client, phone, engine, clock, twilio)
    assert text.body == (
        "tocsin #1 [CRITICAL] Disk full on db-1 - reply 1A to ack, 1R to resolve "
        "https://tocsin.test/incidents/number/1"
    )
    assert len(text.body) <= 160

    answered = await fake.from_twilio(client, "/twilio/sms", _reply("1a"))
    assert answered.status_code == 200, answered.text
    assert "<Message>tocsin #1 acknowledged.</Message>" in answered.text
    incident = await world.incident()
    assert incident.acknowledged_by == "alice@example.com"
    async with database.transaction() as session:
        event = await session.scalar(
            sa.select(AuditEvent).where(AuditEvent.action == "incident.acknowledged")
        )
    assert event is not None
    assert event.details["via"] == "sms"
    assert event.actor_id == phone.alice.id

    again = await fake.from_twilio(client, "/twilio/sms", _reply("ACK 1"))
    assert "already acknowledged by alice@example.com" in again.text
    unknown = await fake.from_twilio(client, "/twilio/sms", _reply("77R"))
    assert "no incident #77" in unknown.text
    stranger = await fake.from_twilio(client, "/twilio/sms", _reply("1R", sender="+15555550199"))
    assert "does not know this number" in stranger.text
    resolved = await fake.from_twilio(client, "/twilio/sms", _reply("R"))
    assert "tocsin #1 resolved." in resolved.text


@pytest.mark.parametrize(
    "signature",
    [pytest.param("", id="missing"), pytest.param("bm90IGEgc2lnbmF0dXJl", id="forged")],
)
async def test_a_reply_twilio_did_not_sign_is_refused_and_changes_nothing(
    client: httpx.AsyncClient,
    phone: Oncall,
    engine: Engine,
    clock: FrozenClock,
    twilio: FakeTwilio,
    world: World,
    signature: str,
) -> None:
    await _texted(client, phone, engine, clock, twilio)
    refused = await fake.from_twilio(client, "/twilio/sms", _reply("1A"), signature=signature)
    assert refused.status_code == 403
    assert refused.headers["content-type"] == "application/problem+json"
    assert (await world.incident()).status.value == "triggered"
    # Signed for other parameters than those sent: refused too.
    params = _reply("1A")
    tampered = await client.post(
        "/twilio/sms",
        content=urlencode({**params, "From": "+15555550199"}),
        headers={
            "Content-Type": "application/x-www-form-urlencoded",
            "X-Twilio-Signature": fake.sign(f"{fake.PUBLIC_URL}/twilio/sms", params),
        },
    )
    assert tampered.status_code == 403


async def test_stop_disables_the_number_and_no_text_goes_there_until_start(
    client: httpx.AsyncClient,
    phone: Oncall,
    engine: Engine,
    clock: FrozenClock,
    twilio: FakeTwilio,
    database: Database,
) -> None:
    stopped = await fake.from_twilio(client, "/twilio/sms", _reply("STOP"))
    assert stopped.status_code == 200
    async with database.transaction() as session:
        method = await session.scalar(
            sa.select(ContactMethod).where(ContactMethod.kind == ChannelKind.SMS)
        )
    assert method is not None
    assert method.disabled_reason == "replied STOP"

    await send(client, phone.key, trigger("db-1/disk"))
    await engine.tick()
    clock.advance(minutes=3)
    await engine.tick()  # no text (the strict fake would show it)

    await fake.from_twilio(client, "/twilio/sms", _reply("START"))
    async with database.transaction() as session:
        method = await session.scalar(
            sa.select(ContactMethod).where(ContactMethod.kind == ChannelKind.SMS)
        )
    assert method is not None
    assert method.disabled_at is None


async def test_twilio_saying_the_number_opted_out_fails_for_good_and_disables_it(
    client: httpx.AsyncClient,
    phone: Oncall,
    engine: Engine,
    clock: FrozenClock,
    twilio: FakeTwilio,
    database: Database,
) -> None:
    twilio.refuse(400, 21610, "Attempt to send to unsubscribed recipient")
    await send(client, phone.key, trigger("db-1/disk"))
    await engine.tick()
    clock.advance(minutes=2)
    await engine.tick()
    async with database.transaction() as session:
        delivery = await session.scalar(sa.select(Delivery).where(Delivery.kind == ChannelKind.SMS))
        method = await session.scalar(
            sa.select(ContactMethod).where(ContactMethod.kind == ChannelKind.SMS)
        )
    assert delivery is not None
    assert (delivery.status, delivery.error_code) == (DeliveryStatus.FAILED, "opted_out")
    assert method is not None
    assert method.disabled_reason == "twilio: the number replied STOP"


async def test_a_late_undelivered_status_fails_the_sent_text(
    client: httpx.AsyncClient,
    phone: Oncall,
    engine: Engine,
    clock: FrozenClock,
    twilio: FakeTwilio,
    database: Database,
) -> None:
    text = await _texted(client, phone, engine, clock, twilio)
    callback = {
        "MessageSid": text.sid,
        "MessageStatus": "undelivered",
        "ErrorCode": "30003",
        "AccountSid": fake.ACCOUNT_SID,
        "To": ALICE,
    }
    answered = await fake.from_twilio(client, "/twilio/status", callback)
    assert answered.status_code == 204
    async with database.transaction() as session:
        delivery = await session.scalar(sa.select(Delivery).where(Delivery.kind == ChannelKind.SMS))
    assert delivery is not None
    assert delivery.status is DeliveryStatus.FAILED
    assert delivery.error_detail == "Twilio: undelivered 30003"
    # The same callback again changes nothing.
    assert (await fake.from_twilio(client, "/twilio/status", callback)).status_code == 204


async def test_an_acknowledgement_by_email_cancels_the_text_still_to_come(
    client: httpx.AsyncClient,
    phone: Oncall,
    engine: Engine,
    clock: FrozenClock,
    twilio: FakeTwilio,
    world: World,
    database: Database,
) -> None:
    await send(client, phone.key, trigger("db-1/disk"))
    await engine.tick()
    incident = await world.incident()
    alice = await phone.seed.as_user(phone.alice)
    assert (await alice.post(f"/api/v1/incidents/{incident.id}/acknowledge")).status_code == 200
    clock.advance(minutes=3)
    await engine.tick()  # the SMS due at 2 minutes is not sent (strict fake)
    async with database.transaction() as session:
        texts = (
            await session.scalars(sa.select(Delivery).where(Delivery.kind == ChannelKind.SMS))
        ).all()
    assert all(delivery.status is DeliveryStatus.CANCELLED for delivery in texts)


async def test_a_new_number_gets_its_code_by_text_and_the_code_is_not_kept_once_sent(
    oncall: Oncall, engine: Engine, twilio: FakeTwilio, database: Database
) -> None:
    client = await oncall.seed.as_user(oncall.alice)
    added = await client.post(
        "/api/v1/me/contact-methods", json={"kind": "sms", "address": "+1 415 555 0123"}
    )
    assert added.status_code == 201, added.text
    await engine.tick()
    text = twilio.expect("+14155550123")
    code = re.fullmatch(r"Your tocsin code is (\d{6})\. It expires in 15 minutes\.", text.body)
    assert code is not None, text.body
    async with database.transaction() as session:
        details = await session.scalar(
            sa.select(Delivery.details).where(Delivery.contact_method_id == added.json()["id"])
        )
    assert details == {}
    verified = await client.post(
        f"/api/v1/contact-methods/{added.json()['id']}/verify", json={"code": code.group(1)}
    )
    assert verified.status_code == 200, verified.text
    assert verified.json()["verified_at"] is not None


async def test_a_storm_to_one_number_is_one_text_a_minute_the_rest_in_one_digest(
    client: httpx.AsyncClient,
    phone: Oncall,
    engine: Engine,
    clock: FrozenClock,
    twilio: FakeTwilio,
    database: Database,
) -> None:
    for number in range(1, 6):
        await send(client, phone.key, trigger(f"db-{number}/disk"))
    for _ in range(2):  # every page dispatched, even on a slow machine
        await engine.tick()
    clock.advance(minutes=2)
    await engine.tick()  # five texts due at once: one goes, four wait for the minute
    async with database.transaction() as session:
        statuses = (
            await session.scalars(
                sa.select(Delivery.status).where(
                    Delivery.kind == ChannelKind.SMS, Delivery.purpose == Purpose.PAGE
                )
            )
        ).all()
    assert sorted(statuses) == sorted([DeliveryStatus.SENT] + [DeliveryStatus.BUNDLED] * 4)
    clock.advance(minutes=1)
    await engine.tick()
    texts = sorted((twilio.expect(ALICE).body for _ in range(2)), key=lambda t: "[" in t[:8])
    page, digest = texts
    first = re.match(r"tocsin #(\d+) \[CRITICAL\]", page)
    assert first is not None, texts
    assert digest.startswith("tocsin [CRITICAL] 4 incidents on payments-api: #"), texts
    listed = re.findall(r"#(\d+)", digest)
    assert len(set(listed)) == 4
    assert first.group(1) not in listed
