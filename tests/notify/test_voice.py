"""Voice, end to end: a fake Twilio over loopback that checks each call it is asked to
place, tocsin's TwiML read back as Twilio reads it, Twilio's requests signed with
``twilio``'s own ``RequestValidator``, a real PostgreSQL and a frozen clock. The fake is
strict: an unclaimed call (a second dial of one delivery) fails the test."""

from __future__ import annotations

import re

import httpx
import pytest
import sqlalchemy as sa
from pydantic import SecretStr

from tests.builders import Seed
from tests.fakes import twilio as fake
from tests.fakes.twilio import FakeTwilio
from tests.notify.conftest import Oncall
from tests.scenarios.conftest import World, send, trigger
from tocsin.clock import FrozenClock
from tocsin.config import Settings
from tocsin.db.models.audit import AuditEvent
from tocsin.db.models.deliveries import Delivery
from tocsin.db.session import Database
from tocsin.domain.access import TeamRole
from tocsin.domain.channels import ChannelKind
from tocsin.domain.deliveries import DeliveryStatus
from tocsin.engine.loop import Engine

ALICE = "+15555550100"
FROM = "+15555559999"


@pytest.fixture
def settings(settings: Settings, twilio: FakeTwilio) -> Settings:
    return settings.model_copy(
        update={
            "twilio_account_sid": fake.ACCOUNT_SID,
            "twilio_auth_token": SecretStr(fake.AUTH_TOKEN),
            "twilio_from_number": FROM,
            "twilio_api_url": twilio.api_url,
            "smtp_timeout_seconds": 1.0,
        }
    )


@pytest.fixture
def engine(settings_engine: Engine) -> Engine:
    return settings_engine


@pytest.fixture
async def phone(oncall: Oncall) -> Oncall:
    """Alice's phone takes calls (her default rules call her 5 minutes into a page); the
    only text she could get would be by SMS, which is not the channel under test."""
    await oncall.seed.verified_method(oncall.alice, ChannelKind.VOICE, ALICE, "mobile")
    return oncall


async def _called(
    client: httpx.AsyncClient,
    oncall: Oncall,
    engine: Engine,
    clock: FrozenClock,
    twilio: FakeTwilio,
) -> fake.Call:
    await send(client, oncall.key, trigger("db-1/disk"))
    await engine.tick()
    clock.advance(minutes=4, seconds=59)
    await engine.tick()  # Bob's level is due at 5 minutes; Alice's call too
    clock.advance(seconds=1)
    await engine.tick()
    return twilio.expect_call(ALICE)


async def _voice_delivery(database: Database) -> Delivery:
    async with database.transaction() as session:
        delivery = await session.scalar(
            sa.select(Delivery).where(Delivery.kind == ChannelKind.VOICE)
        )
    assert delivery is not None
    return delivery


async def _failures(database: Database) -> int:
    async with database.transaction() as session:
        return int(
            await session.scalar(
                sa.select(sa.func.count())
                .select_from(AuditEvent)
                .where(AuditEvent.action == "notification.failed")
            )
            or 0
        )


async def test_a_person_hears_the_page_and_presses_1_to_acknowledge(
    client: httpx.AsyncClient,
    phone: Oncall,
    engine: Engine,
    clock: FrozenClock,
    twilio: FakeTwilio,
    world: World,
    database: Database,
) -> None:
    call = await _called(client, phone, engine, clock, twilio)
    assert call.params["From"] == FROM
    assert (await _voice_delivery(database)).status is DeliveryStatus.SENT

    answered = fake.twiml(
        await fake.from_twilio(client, call.answer_path, call.request(AnsweredBy="human"))
    )
    gather = answered.find("Gather")
    assert gather is not None
    assert gather.get("numDigits") == "1"
    said = fake.spoken(answered)
    assert "Hello Alice. This is tocsin, with a critical priority page. Incident 1" in said
    assert "Disk full on db-1" in said
    assert "Press 1 to acknowledge." in said
    assert (await _voice_delivery(database)).status is DeliveryStatus.DELIVERED

    keys = gather.get("action")
    assert keys is not None
    pressed = fake.twiml(
        await fake.from_twilio(client, keys.removeprefix(fake.PUBLIC_URL), call.request(Digits="1"))
    )
    assert fake.spoken(pressed) == "Incident 1 acknowledged. Goodbye."
    assert pressed.find("Hangup") is not None
    incident = await world.incident()
    assert incident.acknowledged_by == "alice@example.com"
    async with database.transaction() as session:
        event = await session.scalar(
            sa.select(AuditEvent).where(AuditEvent.action == "incident.acknowledged")
        )
    assert event is not None
    assert event.details["via"] == "voice"
    assert event.actor_id == phone.alice.id

    again = fake.twiml(
        await fake.from_twilio(client, keys.removeprefix(fake.PUBLIC_URL), call.request(Digits="2"))
    )
    assert fake.spoken(again) == ("Incident 1 is already acknowledged by Alice. Goodbye.")
    ended = await fake.from_twilio(
        client, call.status_path, call.request(CallStatus="completed", AnsweredBy="human")
    )
    assert ended.status_code == 204
    assert (await _voice_delivery(database)).status is DeliveryStatus.DELIVERED


async def test_9_escalates_now_and_3_repeats(
    client: httpx.AsyncClient,
    seed: Seed,
    engine: Engine,
    clock: FrozenClock,
    twilio: FakeTwilio,
    database: Database,
) -> None:
    alice = await seed.user("Alice", email="alice@example.com")
    bob = await seed.user("Bob", email="bob@example.com")
    team = await seed.team("Payments", [(alice, TeamRole.RESPONDER), (bob, TeamRole.RESPONDER)])
    # Alice's call comes 5 minutes in, long before Bob's level is due.
    policy = await seed.policy(team, [(30, [alice]), (10, [bob])])
    _, key = await seed.integration(await seed.service(team, policy, name="payments-api"))
    phone = Oncall(alice, bob, key, seed)
    await seed.verified_method(alice, ChannelKind.VOICE, ALICE, "mobile")
    call = await _called(client, phone, engine, clock, twilio)
    fake.twiml(await fake.from_twilio(client, call.answer_path, call.request(AnsweredBy="human")))
    keys = call.answer_path.replace("/answer?", "/keys?")
    repeat = fake.twiml(await fake.from_twilio(client, keys, call.request(Digits="3")))
    redirect = repeat.find("Redirect")
    assert redirect is not None
    assert redirect.text is not None
    again = fake.twiml(
        await fake.from_twilio(client, redirect.text.removeprefix(fake.PUBLIC_URL), call.request())
    )
    assert "Incident 1" in fake.spoken(again)

    pressed = fake.twiml(await fake.from_twilio(client, keys, call.request(Digits="9")))
    assert fake.spoken(pressed) == "Incident 1 escalated to the next level. Goodbye."
    async with database.transaction() as session:
        escalated = await session.scalar(
            sa.select(AuditEvent).where(
                AuditEvent.action == "incident.escalated", AuditEvent.actor_id == phone.alice.id
            )
        )
    assert escalated is not None
    assert escalated.details["cause"] == "escalated by alice@example.com"
    assert escalated.details["level"] == 2


async def test_an_answering_machine_gets_a_voicemail_and_the_call_counts_as_not_answered(
    client: httpx.AsyncClient,
    phone: Oncall,
    engine: Engine,
    clock: FrozenClock,
    twilio: FakeTwilio,
    database: Database,
) -> None:
    call = await _called(client, phone, engine, clock, twilio)
    before = await _failures(database)
    voicemail = fake.twiml(
        await fake.from_twilio(
            client, call.answer_path, call.request(AnsweredBy="machine_end_beep")
        )
    )
    assert voicemail.find("Gather") is None
    assert voicemail.find("Hangup") is not None
    assert fake.spoken(voicemail).startswith(
        "This is tocsin with a critical priority page: incident 1, on payments-api"
    )
    delivery = await _voice_delivery(database)
    assert delivery.status is DeliveryStatus.FAILED
    assert delivery.error_code == "not_answered"
    # The call's end, reported again and again, fails nothing twice and dials nothing.
    for _ in range(2):
        ended = await fake.from_twilio(
            client,
            call.status_path,
            call.request(CallStatus="completed", AnsweredBy="machine_end_beep"),
        )
        assert ended.status_code == 204
    assert await _failures(database) == before + 1
    clock.advance(minutes=2)
    await engine.tick()


@pytest.mark.parametrize("state", ["no-answer", "busy", "canceled"])
async def test_a_call_nobody_took_fails_once_as_not_answered(
    client: httpx.AsyncClient,
    phone: Oncall,
    engine: Engine,
    clock: FrozenClock,
    twilio: FakeTwilio,
    database: Database,
    state: str,
) -> None:
    call = await _called(client, phone, engine, clock, twilio)
    before = await _failures(database)
    for _ in range(2):
        ended = await fake.from_twilio(client, call.status_path, call.request(CallStatus=state))
        assert ended.status_code == 204
    delivery = await _voice_delivery(database)
    assert delivery.status is DeliveryStatus.FAILED
    assert delivery.error_code == "not_answered"
    assert await _failures(database) == before + 1
    clock.advance(minutes=3)
    await engine.tick()  # never dialled again (the strict fake would show it)


async def test_a_call_whose_creation_timed_out_is_not_placed_again_and_its_status_settles_it(
    client: httpx.AsyncClient,
    phone: Oncall,
    engine: Engine,
    clock: FrozenClock,
    twilio: FakeTwilio,
    database: Database,
) -> None:
    twilio.stall_seconds = 1.5
    call = await _called(client, phone, engine, clock, twilio)
    twilio.stall_seconds = 0
    delivery = await _voice_delivery(database)
    assert delivery.status is DeliveryStatus.UNKNOWN
    assert delivery.next_attempt_at is None
    clock.advance(minutes=5)
    await engine.tick()  # no second call
    answered = await fake.from_twilio(client, call.answer_path, call.request(AnsweredBy="human"))
    assert "Incident 1" in fake.spoken(fake.twiml(answered))
    delivery = await _voice_delivery(database)
    assert delivery.status is DeliveryStatus.DELIVERED
    assert delivery.provider_message_id == call.sid


@pytest.mark.parametrize(
    "signature",
    [pytest.param("", id="missing"), pytest.param("bm90IGEgc2lnbmF0dXJl", id="forged")],
)
async def test_a_key_twilio_did_not_sign_is_refused_and_changes_nothing(
    client: httpx.AsyncClient,
    phone: Oncall,
    engine: Engine,
    clock: FrozenClock,
    twilio: FakeTwilio,
    world: World,
    signature: str,
) -> None:
    call = await _called(client, phone, engine, clock, twilio)
    keys = call.answer_path.replace("/answer?", "/keys?")
    refused = await fake.from_twilio(client, keys, call.request(Digits="1"), signature=signature)
    assert refused.status_code == 403
    assert refused.headers["content-type"] == "application/problem+json"
    # Signed for another delivery's URL: refused too.
    params = call.request(Digits="1")
    moved = await client.post(
        keys,
        content=httpx.QueryParams(params).__str__(),
        headers={
            "Content-Type": "application/x-www-form-urlencoded",
            "X-Twilio-Signature": fake.sign(f"{fake.PUBLIC_URL}/twilio/voice/keys", params),
        },
    )
    assert moved.status_code == 403
    assert (await world.incident()).status.value == "triggered"
    garbage = await fake.from_twilio(client, "/twilio/voice/keys?delivery=nope", params)
    assert garbage.status_code == 422
    assert garbage.json()["field"] == "delivery"


async def test_a_phone_is_verified_by_a_call_that_reads_the_code(
    oncall: Oncall, engine: Engine, twilio: FakeTwilio, database: Database
) -> None:
    client = await oncall.seed.as_user(oncall.alice)
    added = await client.post(
        "/api/v1/me/contact-methods", json={"kind": "voice", "address": "+1 415 555 0123"}
    )
    assert added.status_code == 201, added.text
    await engine.tick()
    call = twilio.expect_call("+14155550123")
    answered = fake.twiml(
        await fake.from_twilio(client, call.answer_path, call.request(AnsweredBy="human"))
    )
    said = re.fullmatch(
        r"Your tocsin code is ((?:\d, ){5}\d)\. Again, your code is \1\. Goodbye\.",
        fake.spoken(answered),
    )
    assert said is not None, fake.spoken(answered)
    ended = await fake.from_twilio(client, call.status_path, call.request(CallStatus="completed"))
    assert ended.status_code == 204
    async with database.transaction() as session:
        details = await session.scalar(
            sa.select(Delivery.details).where(Delivery.contact_method_id == added.json()["id"])
        )
    assert details == {}
    verified = await client.post(
        f"/api/v1/contact-methods/{added.json()['id']}/verify",
        json={"code": said.group(1).replace(", ", "")},
    )
    assert verified.status_code == 200, verified.text
