"""Status mails: people who opted in hear when an incident they were paged for is
acknowledged or resolved by someone else. The SMTP fake is strict: a status mail to the
person who made the change, to someone who did not opt in, or to someone never paged
for the incident would fail the test at teardown."""

from __future__ import annotations

import re

import httpx

from tests.fakes.smtp import FakeSmtp, Received
from tests.notify.conftest import Oncall
from tests.scenarios.conftest import World, send, trigger
from tocsin.clock import FrozenClock
from tocsin.db.models.users import User
from tocsin.engine.loop import Engine

LINK = re.compile(r"https://tocsin\.test(/magic/[A-Za-z0-9_-]+)")


async def _opt_in(oncall: Oncall, *people: User) -> None:
    for person in people:
        client = await oncall.seed.as_user(person)
        saved = await client.put(
            "/api/v1/me/notification-settings",
            json={"on_status_change": True, "on_shift_start": False},
        )
        assert saved.status_code == 200, saved.text
        assert saved.json()["on_status_change"] is True


async def _page_alice_then_bob(
    client: httpx.AsyncClient,
    oncall: Oncall,
    engine: Engine,
    smtp: FakeSmtp,
    clock: FrozenClock,
) -> tuple[Received, Received]:
    """An alert pages Alice, and five minutes later Bob (level 2): their two mails."""
    await send(client, oncall.key, trigger("db-1/disk"))
    await engine.tick()
    alice = smtp.expect(to="alice@example.com", subject="[CRITICAL] payments-api: Disk full")
    clock.advance(minutes=5)
    await engine.tick()
    bob = smtp.expect(to="bob@example.com", subject="[ESCALATION - Level 2]")
    return alice, bob


async def test_an_acknowledgement_by_someone_else_is_mailed_to_the_others_paged(
    client: httpx.AsyncClient,
    oncall: Oncall,
    engine: Engine,
    smtp: FakeSmtp,
    clock: FrozenClock,
    world: World,
) -> None:
    await _opt_in(oncall, oncall.alice, oncall.bob)
    page, _ = await _page_alice_then_bob(client, oncall, engine, smtp, clock)

    bob = await oncall.seed.as_user(oncall.bob)
    incident = await world.incident()
    acked = await bob.post(f"/api/v1/incidents/{incident.id}/acknowledge")
    assert acked.status_code == 200, acked.text
    await engine.tick()

    status = smtp.expect(
        to="alice@example.com", subject="[ACKNOWLEDGED] payments-api: Disk full on db-1 (#1)"
    )
    assert "Acknowledged by bob@example.com at Mon 5 Jan 2026 10:05 CET." in status.text
    assert "Acknowledged by bob@example.com" in status.html
    # The same thread as the page that told her of the incident.
    assert status.message["In-Reply-To"] == page.message["Message-ID"]
    assert "/magic/" not in status.text  # nothing left to act on
    # Bob made the change: no mail about it to him (the strict fake checks at teardown),
    # and nothing more to anyone however long we wait.
    clock.advance(minutes=30)
    await engine.tick()


async def test_a_resolution_by_the_monitoring_tool_is_mailed_to_everyone_paged_who_opted_in(
    client: httpx.AsyncClient,
    oncall: Oncall,
    engine: Engine,
    smtp: FakeSmtp,
    clock: FrozenClock,
) -> None:
    await _opt_in(oncall, oncall.alice, oncall.bob)
    await send(client, oncall.key, trigger("db-1/disk"))
    await engine.tick()
    smtp.expect(to="alice@example.com", subject="Disk full on db-1")
    clock.advance(minutes=1)
    resolved = await send(client, oncall.key, {"dedup_key": "db-1/disk", "action": "resolve"})
    assert resolved.status_code == 202, resolved.text
    await engine.tick()
    status = smtp.expect(to="alice@example.com", subject="[RESOLVED] payments-api")
    assert "Resolved by " in status.text
    assert "10:01 CET" in status.text
    # Bob opted in too, but was never paged for this incident (it was resolved before
    # level 2): nothing for him.
    clock.advance(minutes=30)
    await engine.tick()


async def test_no_status_mail_without_the_opt_in(
    client: httpx.AsyncClient,
    oncall: Oncall,
    engine: Engine,
    smtp: FakeSmtp,
    clock: FrozenClock,
    world: World,
) -> None:
    await _opt_in(oncall, oncall.bob)
    await _page_alice_then_bob(client, oncall, engine, smtp, clock)
    bob = await oncall.seed.as_user(oncall.bob)
    incident = await world.incident()
    resolved = await bob.post(f"/api/v1/incidents/{incident.id}/resolve")
    assert resolved.status_code == 200, resolved.text
    await engine.tick()
    # Alice was paged but did not opt in; Bob opted in but resolved it himself.
    assert smtp.unexpected() == []


async def test_acting_from_the_mail_tells_the_others_not_oneself(
    client: httpx.AsyncClient,
    oncall: Oncall,
    engine: Engine,
    smtp: FakeSmtp,
    clock: FrozenClock,
    world: World,
) -> None:
    await _opt_in(oncall, oncall.alice, oncall.bob)
    _, page = await _page_alice_then_bob(client, oncall, engine, smtp, clock)
    acknowledge = LINK.findall(page.text)[0]
    done = await client.post(acknowledge)
    assert done.status_code == 200, done.text
    assert (await world.incident()).acknowledged_by == "bob@example.com"
    await engine.tick()
    status = smtp.expect(to="alice@example.com", subject="[ACKNOWLEDGED]")
    assert "by bob@example.com" in status.text
