"""Teams: incidents posted to a channel through a Workflows webhook (a fake one over
loopback), and the card's buttons confirmed on tocsin's pages as the person who opens
them."""

from __future__ import annotations

import re
from collections.abc import Iterator
from urllib.parse import urlsplit

import httpx
import pytest
import sqlalchemy as sa

from tests.fakes.teams import FakeWorkflow
from tests.notify.conftest import Oncall
from tests.scenarios.conftest import World, send, trigger
from tocsin.actions.actors import system_actor
from tocsin.actions.services import post_targets
from tocsin.clock import FrozenClock
from tocsin.db.models.audit import AuditEvent
from tocsin.db.models.follow_ups import PostTarget
from tocsin.db.models.services import Service
from tocsin.db.session import Database
from tocsin.domain.channels import ChannelKind
from tocsin.engine.loop import Engine
from tocsin.errors import InvalidInput
from tocsin.notify.channels.teams.package import post_address
from tocsin.security.encryption import Cipher


@pytest.fixture
def workflow() -> Iterator[FakeWorkflow]:
    server = FakeWorkflow()
    server.start()
    try:
        yield server
    finally:
        server.stop()
    assert server.unexpected() == [], f"unexpected Teams traffic: {server.unexpected()}"


@pytest.fixture
def engine(settings_engine: Engine) -> Engine:
    return settings_engine


async def _place(database: Database, clock: FrozenClock, url: str) -> None:
    async with database.transaction() as session:
        service_id = await session.scalar(
            sa.select(Service.id).where(Service.name == "payments-api")
        )
        assert service_id is not None
        # Straight to the action: the API refuses a webhook on 127.0.0.1 (see below).
        await post_targets.add_target(
            session,
            actor=system_actor("test"),
            cipher=Cipher(b"test-secret-key-not-for-production"),
            owner=post_targets.Owner(service_id=service_id),
            kind=ChannelKind.TEAMS,
            address=url,
            label="Payments on call",
            now=clock.now(),
        )


def _urls(card: dict[str, object]) -> dict[str, str]:
    actions = card["actions"]
    assert isinstance(actions, list)
    return {action["title"]: action["url"] for action in actions}


async def test_a_card_per_change_and_its_button_acknowledges_as_whoever_confirms(
    client: httpx.AsyncClient,
    oncall: Oncall,
    engine: Engine,
    workflow: FakeWorkflow,
    database: Database,
    clock: FrozenClock,
    world: World,
) -> None:
    await _place(database, clock, workflow.url)
    await send(client, oncall.key, trigger("db-1/disk"))
    await engine.tick()
    card = workflow.expect()
    assert card["body"][0]["text"] == "[CRITICAL] #1 Disk full on db-1"
    assert card["body"][1]["text"] == "Triggered"
    incident = await world.incident()
    buttons = _urls(card)
    assert set(buttons) == {"Open incident", "Acknowledge", "Resolve"}
    assert (
        buttons["Acknowledge"] == f"https://tocsin.test/teams/incidents/{incident.id}/acknowledge"
    )

    bob = await oncall.seed.as_user(oncall.bob)
    path = urlsplit(buttons["Acknowledge"]).path
    asked = await bob.get(path)
    assert asked.status_code == 200
    assert "Acknowledge incident #1?" in asked.text
    assert (await world.incident()).status.value == "triggered"  # looking changes nothing
    token = re.search(r'name="csrf_token" value="([^"]+)"', asked.text)
    assert token is not None
    done = await bob.post(path, data={"csrf_token": token.group(1)})
    assert done.status_code == 303
    assert (await world.incident()).acknowledged_by == "bob@example.com"
    async with database.transaction() as session:
        event = await session.scalar(
            sa.select(AuditEvent).where(AuditEvent.action == "incident.acknowledged")
        )
    assert event is not None
    assert event.details["via"] == "teams"

    await engine.tick()
    update = workflow.expect()
    assert update["body"][1]["text"] == "Acknowledged by bob@example.com"
    assert update["body"][-1]["text"] == "Acknowledged by bob@example.com via Teams"
    assert set(_urls(update)) == {"Open incident", "Resolve"}


async def test_a_deleted_webhook_marks_the_place_broken_and_a_throttled_one_waits(
    client: httpx.AsyncClient,
    oncall: Oncall,
    engine: Engine,
    workflow: FakeWorkflow,
    database: Database,
    clock: FrozenClock,
) -> None:
    await _place(database, clock, workflow.url)
    workflow.answer(429, {"Retry-After": "20"})
    await send(client, oncall.key, trigger("db-1/disk"))
    await engine.tick()
    clock.advance(seconds=19)
    await engine.tick()  # not yet: nothing arrives (the strict fake would show it)
    clock.advance(seconds=1)
    workflow.answer(404)
    await engine.tick()
    async with database.transaction() as session:
        target = await session.scalar(sa.select(PostTarget))
    assert target is not None
    assert target.broken_reason == "Teams webhook answered 404"


@pytest.mark.parametrize(
    "address",
    [
        "http://prod-01.westeurope.logic.azure.com/workflows/x",
        "https://localhost/hook",
        "https://10.0.0.5/hook",
        "https://[::1]/hook",
        "https://169.254.169.254/latest",
        "ftp://example.com/x",
        "https://",
    ],
)
def test_a_webhook_must_be_https_on_a_public_host(address: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        post_address(address)
    assert refused.value.field == "address"


def test_a_workflows_url_is_accepted() -> None:
    url = "https://prod-01.westeurope.logic.azure.com:443/workflows/abc/triggers/manual/paths/invoke?sig=x"
    assert post_address(f"  {url} ") == url
