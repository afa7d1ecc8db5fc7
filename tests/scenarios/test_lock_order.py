"""Lock order between intake and the engine: a resolve arriving while the engine is
dispatching the incident's pages must wait, never deadlock.

The engine's dispatch holds the page it is dispatching and inserts the deliveries, whose
foreign key check takes FOR KEY SHARE on the incident. A resolve locks the incident and
then cancels its undispatched pages. With the incident locked FOR UPDATE the two waited
for each other and PostgreSQL aborted one (``DeadlockDetected`` in the engine's log when
trigger, acknowledge and resolve arrived milliseconds apart); FOR NO KEY UPDATE lets the
dispatch finish first.
"""

from __future__ import annotations

import asyncio

import httpx
import sqlalchemy as sa

from tests.builders import Seed
from tests.scenarios.conftest import send, trigger
from tests.scenarios.support import Records, crew
from tocsin.db.session import Database
from tocsin.engine.loop import Engine


async def test_a_resolve_waits_for_a_dispatch_in_progress_instead_of_deadlocking(
    seed: Seed, client: httpx.AsyncClient, engine: Engine, database: Database
) -> None:
    people = await crew(seed)
    _, key = await seed.integration(people.service)
    assert (await send(client, key, trigger("db-1/disk"))).status_code == 202
    await engine.tick()  # pages Alice; nothing dispatches them (no notifier)
    incident = await Records(database).incident()

    async with database.transaction() as dispatch:
        # Waiting for a lock at all fails the test, before PostgreSQL's deadlock check
        # (after deadlock_timeout, 1 s) would abort the resolve and intake retry it.
        await dispatch.execute(sa.text("SET LOCAL lock_timeout = '500ms'"))
        # What the dispatch does: hold the incident's undispatched page...
        held = await dispatch.execute(
            sa.text(
                "SELECT id FROM page WHERE incident_id = :incident AND dispatched_at IS NULL "
                "FOR UPDATE"
            ),
            {"incident": incident.id},
        )
        assert held.all(), "the page to dispatch"
        # ...while the resolve arrives: it locks the incident, then waits for the page.
        resolving = asyncio.create_task(
            send(client, key, {"action": "resolve", "dedup_key": "db-1/disk"})
        )
        await _until_waiting_for_a_lock(database)
        # ...then insert a delivery, whose foreign key check takes KEY SHARE on the incident.
        await dispatch.execute(
            sa.text("SELECT 1 FROM incident WHERE id = :incident FOR KEY SHARE"),
            {"incident": incident.id},
        )
    resolved = await resolving
    assert resolved.status_code == 202, resolved.text
    assert (await Records(database).incident()).status.value == "resolved"


async def _until_waiting_for_a_lock(database: Database) -> None:
    for _ in range(200):
        async with database.transaction() as session:
            waiting = await session.scalar(
                sa.text(
                    "SELECT count(*) FROM pg_stat_activity "
                    "WHERE datname = current_database() AND wait_event_type = 'Lock'"
                )
            )
        if waiting:
            return
        await asyncio.sleep(0.02)
    raise AssertionError("the resolve never waited for the page")
