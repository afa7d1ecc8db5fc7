"""ntfy, end to end: a topic added through the API and confirmed by the code published
to it, pages published to a fake ntfy server that checks the publish API, and the http
action pressed the way the ntfy app presses it. The fake is strict: an unclaimed message
fails the test."""

from __future__ import annotations

import re
from collections.abc import Iterator

import httpx
import pytest
import sqlalchemy as sa

from tests.fakes.ntfy import FakeNtfy
from tests.notify.conftest import Oncall
from tests.scenarios.conftest import World, send, trigger
from tocsin.config import Settings
from tocsin.db.models.contact_methods import ContactMethod
from tocsin.db.session import Database
from tocsin.domain.channels import ChannelKind
from tocsin.engine.loop import Engine

TOKEN = "tk_alicealicealicealicealice12"


@pytest.fixture
def ntfy() -> Iterator[FakeNtfy]:
    server = FakeNtfy()
    server.start()
    try:
        yield server
    finally:
        server.stop()
    assert server.unexpected() == [], f"unexpected ntfy messages: {server.unexpected()}"


@pytest.fixture
def settings(settings: Settings) -> Settings:
    # The fake ntfy server is on 127.0.0.1, over plain http.
    return settings.model_copy(update={"allow_private_destinations": True})


@pytest.fixture
def engine(settings_engine: Engine) -> Engine:
    return settings_engine


async def _confirmed_topic(
    oncall: Oncall, engine: Engine, ntfy: FakeNtfy, *, token: str | None
) -> tuple[httpx.AsyncClient, str]:
    alice = await oncall.seed.as_user(oncall.alice)
    url = ntfy.topic("alice-pages", token=token)
    added = await alice.post(
        "/api/v1/me/contact-methods",
        json={"kind": "ntfy", "address": url, "label": "phone", "access_token": token},
    )
    assert added.status_code == 201, added.text
    assert added.json()["address"] == url
    await engine.tick()
    published = ntfy.expect("alice-pages")
    code = re.fullmatch(r"Your tocsin code is (\d{6})\. .*", published.body["message"])
    assert code is not None, published.body
    verified = await alice.post(
        f"/api/v1/contact-methods/{added.json()['id']}/verify", json={"code": code.group(1)}
    )
    assert verified.status_code == 200, verified.text
    return alice, url


async def test_a_page_is_published_at_top_priority_and_its_action_acknowledges(
    client: httpx.AsyncClient,
    oncall: Oncall,
    engine: Engine,
    ntfy: FakeNtfy,
    world: World,
    database: Database,
) -> None:
    await _confirmed_topic(oncall, engine, ntfy, token=TOKEN)
    async with database.transaction() as session:
        details = await session.scalar(
            sa.select(ContactMethod.details).where(ContactMethod.kind == ChannelKind.NTFY)
        )
    assert details is not None
    assert TOKEN not in str(details)  # kept encrypted

    await send(client, oncall.key, trigger("db-1/disk"))
    await engine.tick()
    page = ntfy.expect("alice-pages")
    assert page.authorization == f"Bearer {TOKEN}"
    body = page.body
    assert body["title"] == "#1 [CRITICAL] Disk full on db-1"
    assert body["priority"] == 5
    assert body["tags"] == ["rotating_light"]
    assert body["click"].startswith("https://tocsin.test/incidents/")
    assert [a["label"] for a in body["actions"]] == ["Acknowledge", "Resolve"]
    acknowledge = body["actions"][0]
    assert acknowledge["action"] == "http"
    assert acknowledge["method"] == "POST"

    # What the ntfy app does when the button is pressed.
    pressed = await client.post(
        acknowledge["url"].removeprefix("https://tocsin.test"), headers=acknowledge["headers"]
    )
    assert pressed.status_code == 200, pressed.text
    assert pressed.json()["state"] == "done"
    assert (await world.incident()).acknowledged_by == "alice@example.com"


async def test_a_topic_that_refuses_the_token_disables_the_method_with_the_reason(
    client: httpx.AsyncClient,
    oncall: Oncall,
    engine: Engine,
    ntfy: FakeNtfy,
    database: Database,
) -> None:
    await _confirmed_topic(oncall, engine, ntfy, token=None)
    ntfy.answer("alice-pages", 403)
    await send(client, oncall.key, trigger("db-1/disk"))
    await engine.tick()
    async with database.transaction() as session:
        method = await session.scalar(
            sa.select(ContactMethod).where(ContactMethod.kind == ChannelKind.NTFY)
        )
    assert method is not None
    assert method.disabled_reason == (
        "ntfy: the ntfy server refused the topic's access token (403)"
    )


@pytest.mark.parametrize(
    "address",
    [
        "https://ntfy.sh/",
        "https://ntfy.sh/bad topic",
        "ftp://ntfy.sh/alerts",
        "https://ntfy.sh/a?x=1",
    ],
)
async def test_an_address_that_is_not_a_topic_url_is_refused_naming_the_field(
    oncall: Oncall, address: str
) -> None:
    alice = await oncall.seed.as_user(oncall.alice)
    refused = await alice.post(
        "/api/v1/me/contact-methods", json={"kind": "ntfy", "address": address}
    )
    assert refused.status_code == 422, refused.text
    assert refused.json()["field"] == "address"
