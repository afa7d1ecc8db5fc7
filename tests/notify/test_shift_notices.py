"""Shift-start mails: exactly one per person who opted in, when their on-call shift starts.

The test clock starts on Monday 2026-01-05 09:00 UTC. The schedule (UTC) rotates daily at
10:00 through Alice, Bob and Carol; Alice and Bob opted in, Carol did not. The SMTP fake is
strict, so a second notice for one shift start, or one to Carol, fails at teardown.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import httpx
import sqlalchemy as sa
from fastapi import FastAPI

from tests.builders import Seed
from tests.fakes.smtp import FakeSmtp
from tests.notify.conftest import sending_engine
from tocsin.clock import FrozenClock
from tocsin.db.models.deliveries import Delivery, NotifyCursor
from tocsin.db.models.users import User
from tocsin.db.session import Database
from tocsin.domain.access import TeamRole
from tocsin.engine.loop import Engine
from tocsin.notify import notifier as notify

SUBJECT = "Your on-call shift on Payments primary starts now"


async def _rotation(seed: Seed) -> tuple[User, User, User]:
    alice = await seed.user("Alice", email="alice@example.com", time_zone="Europe/Berlin")
    bob = await seed.user("Bob", email="bob@example.com")
    carol = await seed.user("Carol", email="carol@example.com")
    admin = await seed.user("Admin")
    team = await seed.team(
        "Payments",
        [(admin, TeamRole.ADMIN)] + [(p, TeamRole.RESPONDER) for p in (alice, bob, carol)],
    )
    client = await seed.as_user(admin)
    created = await client.post(
        "/api/v1/schedules",
        json={"team_id": str(team.id), "name": "Payments primary", "time_zone": "UTC"},
    )
    assert created.status_code == 201, created.text
    layer = await client.post(
        f"/api/v1/schedules/{created.json()['id']}/layers",
        json={
            "name": "Daily",
            "start": "2026-01-05T10:00",
            "rotation": {"kind": "daily"},
            "participants": [str(alice.id), str(bob.id), str(carol.id)],
        },
    )
    assert layer.status_code == 201, layer.text
    for person in (alice, bob):
        as_person = await seed.as_user(person)
        saved = await as_person.put(
            "/api/v1/me/notification-settings",
            json={"on_status_change": False, "on_shift_start": True},
        )
        assert saved.status_code == 200, saved.text
    return alice, bob, carol


async def test_each_opted_in_person_is_told_once_when_their_shift_starts(
    seed: Seed, engine: Engine, smtp: FakeSmtp, clock: FrozenClock, database: Database
) -> None:
    await _rotation(seed)
    await engine.tick()  # 09:00: tocsin starts watching; nobody's shift starts
    clock.advance(minutes=59, seconds=59)
    await engine.tick()
    assert smtp.unexpected() == []

    clock.advance(seconds=1)  # 10:00: Alice's shift
    await engine.tick()
    mail = smtp.expect(to="alice@example.com", subject=SUBJECT)
    assert "Your shift on Payments primary started at Mon 5 Jan 2026 11:00 CET." in mail.text
    for _ in range(3):
        clock.advance(minutes=5)
        await engine.tick()
    assert smtp.unexpected() == []

    clock.set(clock.now().replace(day=6, hour=10, minute=0))  # Bob's shift
    await engine.tick()
    smtp.expect(to="bob@example.com", subject=SUBJECT, contains="Tue 6 Jan 2026 10:00 UTC")

    clock.advance(days=1)  # Carol's shift: she did not opt in
    await engine.tick()
    clock.advance(days=1)  # Alice again
    await engine.tick()
    smtp.expect(to="alice@example.com", subject=SUBJECT, contains="Thu 8 Jan 2026 11:00 CET")
    async with database.transaction() as session:
        kinds = (await session.scalars(sa.select(Delivery.purpose))).all()
    assert [kind.value for kind in kinds] == ["shift"] * 3


async def test_engines_at_once_or_a_cursor_set_back_never_announce_a_shift_twice(
    app: FastAPI,
    seed: Seed,
    smtp: FakeSmtp,
    clock: FrozenClock,
    database: Database,
    notifier: notify.Notifier,
) -> None:
    await _rotation(seed)
    second = Database(database.url, pool_size=5, max_overflow=5)
    try:
        engines = [
            sending_engine(app, database, clock, notifier),
            sending_engine(app, second, clock, notifier),
        ]
        await asyncio.gather(*(engine.tick() for engine in engines))
        clock.advance(hours=1)
        await asyncio.gather(*(engine.tick() for engine in engines))
        smtp.expect(to="alice@example.com", subject=SUBJECT)
        # Even a cursor moved back before the shift start does not repeat the notice:
        # each notice is unique by schedule, instant and method.
        async with database.transaction() as session:
            await session.execute(
                sa.update(NotifyCursor).values(position=clock.now() - timedelta(minutes=5))
            )
        clock.advance(minutes=1)
        fresh = sending_engine(app, database, clock, notifier)
        await fresh.tick()
    finally:
        await second.dispose()
    assert smtp.unexpected() == []
    async with database.transaction() as session:
        assert await session.scalar(sa.select(sa.func.count()).select_from(Delivery)) == 1


async def test_opting_in_is_read_from_the_api(seed: Seed, client: httpx.AsyncClient) -> None:
    alice = await seed.user("Alice")
    as_alice = await seed.as_user(alice)
    before = (await as_alice.get("/api/v1/me/notification-settings")).json()
    assert before == {"on_status_change": False, "on_shift_start": False}
    body: dict[str, Any] = {"on_status_change": False, "on_shift_start": True}
    assert (await as_alice.put("/api/v1/me/notification-settings", json=body)).status_code == 200
    assert (await as_alice.get("/api/v1/me/notification-settings")).json() == body
