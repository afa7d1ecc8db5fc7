"""Bundling, maintenance holds, acknowledgement during retries, and two engines at once."""

from __future__ import annotations

import asyncio
import re
from datetime import timedelta

import httpx
from fastapi import FastAPI

from tests.fakes.smtp import FakeSmtp
from tests.notify.conftest import Deliveries, Oncall, sending_engine
from tests.scenarios.conftest import World, send, trigger
from tocsin.actions.actors import system_actor
from tocsin.actions.services import maintenance
from tocsin.clock import FrozenClock
from tocsin.db.session import Database
from tocsin.engine.loop import Engine
from tocsin.notify import notifier as notify

LINK = re.compile(r"https://tocsin\.test(/magic/[A-Za-z0-9_-]+)")


async def test_from_the_fifth_page_in_ten_minutes_the_rest_go_as_one_digest(
    client: httpx.AsyncClient,
    oncall: Oncall,
    engine: Engine,
    smtp: FakeSmtp,
    clock: FrozenClock,
    world: World,
) -> None:
    for number in range(7):
        await send(client, oncall.key, trigger(f"disk-{number}", title=f"Disk {number} full"))
        await engine.tick()
        clock.advance(seconds=5)
    for number in range(4):
        smtp.expect(to="alice@example.com", subject=f"payments-api: Disk {number} full")
    assert smtp.unexpected() == []  # the digest waits for the pages of the next minute
    clock.advance(seconds=60)
    await engine.tick()
    digest = smtp.expect(to="alice@example.com", subject="[CRITICAL] 3 incidents on payments-api")
    for number in (4, 5, 6):
        assert f"Disk {number} full" in digest.text
    # "Acknowledge all 3" acts on every incident of the digest, as Alice.
    acknowledge_all = LINK.findall(digest.text)[-2]
    done = await client.post(acknowledge_all)
    assert done.status_code == 200, done.text
    statuses = [incident.status.value for incident in await world.incidents()]
    assert statuses == ["triggered"] * 4 + ["acknowledged"] * 3


async def test_a_storm_dispatched_in_one_batch_still_sends_its_first_four_pages_at_once(
    client: httpx.AsyncClient,
    oncall: Oncall,
    engine: Engine,
    smtp: FakeSmtp,
    clock: FrozenClock,
) -> None:
    for number in range(7):
        await send(client, oncall.key, trigger(f"disk-{number}", title=f"Disk {number} full"))
    # One tick escalates all seven and dispatches their pages together: the pages of one
    # batch must not count each other, or even the first would wait for the digest.
    await engine.tick()
    singles = [smtp.expect(to="alice@example.com", subject="payments-api: Disk") for _ in range(4)]
    assert smtp.unexpected() == []
    clock.advance(seconds=60)
    await engine.tick()
    digest = smtp.expect(to="alice@example.com", subject="[CRITICAL] 3 incidents on payments-api")
    mailed = {int(re.findall(r"Disk (\d) full", single.subject)[0]) for single in singles}
    in_digest = {int(number) for number in re.findall(r"Disk (\d) full", digest.text)}
    assert len(mailed) == 4
    assert in_digest == set(range(7)) - mailed


async def test_pages_held_during_maintenance_go_out_when_it_ends_for_open_incidents(
    client: httpx.AsyncClient,
    oncall: Oncall,
    engine: Engine,
    smtp: FakeSmtp,
    clock: FrozenClock,
    world: World,
    database: Database,
) -> None:
    await send(client, oncall.key, trigger("first", title="Before the window"))
    await engine.tick()
    smtp.expect(to="alice@example.com", subject="Before the window")
    incident = await world.incident()
    async with database.transaction() as session:
        await maintenance.create_window(
            session,
            actor=system_actor("test"),
            service_id=incident.service_id,
            starts_at=clock.now(),
            ends_at=clock.now() + timedelta(hours=1),
            now=clock.now(),
        )
    await send(client, oncall.key, trigger("during", title="During the window"))
    await send(client, oncall.key, trigger("fixed", title="Fixed during the window"))
    for _ in range(3):
        clock.advance(minutes=19)
        await engine.tick()
    # Level 2 of the first incident (Bob) and both new incidents wait for the window.
    assert smtp.unexpected() == []
    resolved = await send(client, oncall.key, {"dedup_key": "fixed", "action": "resolve"})
    assert resolved.status_code == 202, resolved.text
    clock.advance(minutes=3)  # the window has ended
    await engine.tick()
    smtp.expect(to="alice@example.com", subject="During the window")
    smtp.expect(to="bob@example.com", subject="[ESCALATION - Level 2]")
    # The incident resolved during the window is not paged at all.
    fixed = next(i for i in await world.incidents() if i.title == "Fixed during the window")
    assert fixed.status.value == "resolved"
    assert await world.pages(fixed) == []


async def test_acknowledging_cancels_pending_retries_on_every_channel(
    client: httpx.AsyncClient,
    oncall: Oncall,
    engine: Engine,
    smtp: FakeSmtp,
    clock: FrozenClock,
    world: World,
    deliveries: Deliveries,
) -> None:
    smtp.reply("alice@example.com", "451 4.3.0 try again later")
    await send(client, oncall.key, trigger("x"))
    await engine.tick()
    (pending,) = await deliveries.all()
    assert pending.status.value == "queued"
    assert pending.error_code == "provider_error"
    alice = await oncall.seed.as_user(oncall.alice)
    incident = await world.incident()
    acked = await alice.post(f"/api/v1/incidents/{incident.id}/acknowledge")
    assert acked.status_code == 200
    assert await deliveries.statuses() == [("page", "email", "cancelled")]
    clock.advance(minutes=30)
    await engine.tick()
    listed = await alice.get(f"/api/v1/incidents/{incident.id}/deliveries")
    assert [d["status"] for d in listed.json()] == ["cancelled"]
    assert "notification.cancelled" in [a for a, _ in await world.timeline(incident)]


async def test_two_engines_never_send_the_same_delivery_twice(
    app: FastAPI,
    client: httpx.AsyncClient,
    oncall: Oncall,
    smtp: FakeSmtp,
    clock: FrozenClock,
    database: Database,
    notifier: notify.Notifier,
    mail_settings: object,
) -> None:
    for number in range(4):
        await send(client, oncall.key, trigger(f"alert-{number}", title=f"Alert {number}"))
    second = Database(database.url, pool_size=5, max_overflow=5)
    try:
        first_engine = sending_engine(app, database, clock, notifier)
        second_engine = sending_engine(app, second, clock, notifier)
        for _ in range(3):
            await asyncio.gather(first_engine.tick(), second_engine.tick())
    finally:
        await second.dispose()
    for number in range(4):
        smtp.expect(to="alice@example.com", subject=f"Alert {number}")
