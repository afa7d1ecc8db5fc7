"""Web push, end to end: a browser's subscription posted the way the page's script posts
it, a fake push service that checks the VAPID signature and *decrypts* each push with
``http_ece`` as the browser would, a real PostgreSQL and a frozen clock. The fake is
strict: an unclaimed push fails the test."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
import sqlalchemy as sa

from tests.fakes.push import FakePushService, Subscription
from tests.notify.conftest import Oncall
from tests.scenarios.conftest import World, send, trigger
from tocsin.clock import FrozenClock
from tocsin.config import Settings
from tocsin.db.models.contact_methods import ContactMethod
from tocsin.db.models.deliveries import Delivery
from tocsin.db.session import Database
from tocsin.domain.channels import ChannelKind
from tocsin.domain.deliveries import DeliveryStatus
from tocsin.engine.loop import Engine
from tocsin.errors import InvalidInput
from tocsin.notify.channels.push import subscriptions

ANDROID_CHROME = (
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Mobile Safari/537.36"
)


@pytest.fixture
def push_service() -> Iterator[FakePushService]:
    server = FakePushService()
    server.start()
    try:
        yield server
    finally:
        server.stop()
    assert server.unexpected() == [], f"unexpected pushes: {server.unexpected()}"


@pytest.fixture
def settings(settings: Settings) -> Settings:
    # The fake push service is on 127.0.0.1, over plain http.
    return settings.model_copy(update={"allow_private_destinations": True})


@pytest.fixture
def engine(settings_engine: Engine) -> Engine:
    return settings_engine


async def _subscribe(
    client: httpx.AsyncClient, oncall: Oncall, push_service: FakePushService
) -> tuple[httpx.AsyncClient, Subscription]:
    key = (await client.get("/push/key")).json()["public_key"]
    push_service.application_server_key = key
    alice = await oncall.seed.as_user(oncall.alice)
    subscription = push_service.subscription()
    made = await alice.post(
        "/push/subscriptions",
        data=subscription.form(),
        headers={"User-Agent": ANDROID_CHROME},
    )
    assert made.status_code == 201, made.text
    assert made.json()["label"] == "Chrome on Android"
    return alice, subscription


async def test_a_page_is_pushed_encrypted_and_its_button_acknowledges_as_the_person(
    client: httpx.AsyncClient,
    oncall: Oncall,
    engine: Engine,
    push_service: FakePushService,
    world: World,
    database: Database,
) -> None:
    alice, subscription = await _subscribe(client, oncall, push_service)
    methods = (await alice.get("/api/v1/me/contact-methods")).json()
    pushed_method = next(m for m in methods if m["kind"] == "push")
    assert pushed_method["verified_at"] is not None

    await send(client, oncall.key, trigger("db-1/disk"))
    await engine.tick()
    push = push_service.expect(subscription)
    assert push.headers["urgency"] == "high"
    assert push.headers["topic"] == "incident-1"
    assert 60 <= int(push.headers["ttl"]) <= 24 * 3600
    payload = push.payload
    assert payload["title"] == "#1 [CRITICAL] Disk full on db-1"
    assert payload["body"] == "payments-api · triggered"
    assert payload["tag"] == "incident-1"
    assert payload["requireInteraction"] is True
    assert [a["action"] for a in payload["actions"]] == ["acknowledge", "resolve"]

    # What the service worker does for the button: post the one-time link, asking JSON.
    acknowledge = payload["actions"][0]["url"].removeprefix("https://tocsin.test")
    answered = await client.post(acknowledge, headers={"Accept": "application/json"})
    assert answered.status_code == 200, answered.text
    assert answered.json() == {"state": "done", "detail": "Acknowledged: #1"}
    assert (await world.incident()).acknowledged_by == "alice@example.com"
    again = await client.post(acknowledge, headers={"Accept": "application/json"})
    assert again.status_code == 409
    assert again.json()["state"] == "used"

    # Acknowledged: the follow-up lane replaces the notification, silently, no buttons.
    await engine.tick()
    replaced = push_service.expect(subscription)
    assert replaced.headers["topic"] == "incident-1"
    assert replaced.headers["urgency"] == "low"
    assert replaced.payload["tag"] == "incident-1"
    assert replaced.payload["body"] == "Acknowledged by alice@example.com"
    assert replaced.payload["actions"] == []
    assert replaced.payload["silent"] is True
    async with database.transaction() as session:
        delivery = await session.scalar(
            sa.select(Delivery).where(Delivery.kind == ChannelKind.PUSH)
        )
    assert delivery is not None
    assert delivery.status is DeliveryStatus.SENT


async def test_a_subscription_the_push_service_says_is_gone_is_disabled_with_the_reason(
    client: httpx.AsyncClient,
    oncall: Oncall,
    engine: Engine,
    push_service: FakePushService,
    database: Database,
) -> None:
    alice, subscription = await _subscribe(client, oncall, push_service)
    push_service.answer(subscription, 410)
    await send(client, oncall.key, trigger("db-1/disk"))
    await engine.tick()
    async with database.transaction() as session:
        method = await session.scalar(
            sa.select(ContactMethod).where(ContactMethod.kind == ChannelKind.PUSH)
        )
        delivery = await session.scalar(
            sa.select(Delivery).where(Delivery.kind == ChannelKind.PUSH)
        )
    assert method is not None
    assert method.disabled_reason == "webpush: the browser's push subscription ended (410)"
    assert delivery is not None
    assert delivery.status is DeliveryStatus.FAILED
    # Enabling push on the device again makes a fresh start.
    again = await alice.post("/push/subscriptions", data=subscription.form())
    assert again.status_code == 201
    async with database.transaction() as session:
        method = await session.scalar(
            sa.select(ContactMethod).where(ContactMethod.kind == ChannelKind.PUSH)
        )
    assert method is not None
    assert method.disabled_at is None


async def test_a_rate_limited_push_is_due_again_at_retry_after(
    client: httpx.AsyncClient,
    oncall: Oncall,
    engine: Engine,
    clock: FrozenClock,
    push_service: FakePushService,
    database: Database,
) -> None:
    _, subscription = await _subscribe(client, oncall, push_service)
    push_service.answer(subscription, 429, **{"Retry-After": "120"})
    await send(client, oncall.key, trigger("db-1/disk"))
    await engine.tick()
    async with database.transaction() as session:
        delivery = await session.scalar(
            sa.select(Delivery).where(Delivery.kind == ChannelKind.PUSH)
        )
    assert delivery is not None
    assert delivery.status is DeliveryStatus.QUEUED
    assert (delivery.next_attempt_at - clock.now()).total_seconds() == pytest.approx(120, abs=1)
    clock.advance(seconds=120)
    await engine.tick()
    assert push_service.expect(subscription).payload["tag"] == "incident-1"


FCM = "https://fcm.googleapis.com/fcm/send/x"
POINT = "B" + "A" * 86  # 65 bytes, uncompressed P-256 point form


@pytest.mark.parametrize(
    ("field", "form"),
    [
        ("endpoint", {"endpoint": "javascript:alert(1)", "p256dh": POINT, "auth": "A" * 22}),
        ("p256dh", {"endpoint": FCM, "p256dh": "AAAA", "auth": "A" * 22}),
        ("auth", {"endpoint": FCM, "p256dh": POINT, "auth": "not base64!"}),
    ],
)
async def test_a_subscription_that_is_not_one_is_refused_naming_the_field(
    oncall: Oncall, field: str, form: dict[str, str]
) -> None:
    alice = await oncall.seed.as_user(oncall.alice)
    refused = await alice.post("/push/subscriptions", data=form)
    assert refused.status_code == 422, refused.text
    assert refused.headers["content-type"] == "application/problem+json"
    assert refused.json()["field"] == field


@pytest.mark.parametrize(
    "endpoint", ["http://fcm.googleapis.com/x", "https://10.0.0.5/push/x", "https://localhost/x"]
)
def test_an_endpoint_inside_the_network_is_refused_unless_allowed(endpoint: str) -> None:
    form = {"endpoint": endpoint, "p256dh": POINT, "auth": "A" * 22}
    with pytest.raises(InvalidInput) as refused:
        subscriptions.parse(form, allow_private=False)
    assert refused.value.extensions["field"] == "endpoint"
    assert subscriptions.parse(form, allow_private=True).endpoint == endpoint


async def test_the_app_is_installable(client: httpx.AsyncClient) -> None:
    manifest = await client.get("/manifest.webmanifest")
    assert manifest.headers["content-type"] == "application/manifest+json"
    app = manifest.json()
    assert app["display"] == "standalone"
    assert {icon["sizes"] for icon in app["icons"]} >= {"192x192", "512x512"}
    for icon in app["icons"]:
        assert (await client.get(icon["src"])).status_code == 200
    worker = await client.get("/sw.js")
    assert worker.headers["content-type"].startswith("text/javascript")
    assert worker.headers["service-worker-allowed"] == "/"
    assert (await client.get("/favicon.ico")).status_code == 301
