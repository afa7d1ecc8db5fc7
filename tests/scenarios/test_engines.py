"""Many engines on one database, and an engine that dies mid-step.

Any number of engines may run at once: claims skip locked rows and every step is a
compare-and-set on the escalation token, so no step is applied twice and none is lost.
An engine killed with SIGKILL in the middle of a batch leaves nothing half-done: the batch
is one transaction, PostgreSQL rolls it back, and the rows are due again for the next one.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import time
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from tests.builders import Seed
from tests.scenarios.conftest import World
from tocsin.actions.actors import system_actor
from tocsin.actions.escalation import steps
from tocsin.actions.escalation.steps import EscalationState
from tocsin.actions.intake import alerts
from tocsin.clock import FrozenClock
from tocsin.db.models.incidents import Incident, Page
from tocsin.db.models.services import Service
from tocsin.db.session import Database
from tocsin.domain.access import TeamRole
from tocsin.domain.alerts import Severity
from tocsin.engine.loop import Engine
from tocsin.metrics import Metrics


async def _open_incidents(seed: Seed, service: Service, count: int) -> None:
    actor = system_actor("test")
    async with seed.database.transaction() as session:
        for number in range(count):
            await alerts.open_incident(
                session,
                service=service,
                title=f"Incident {number}",
                description="",
                severity=Severity.CRITICAL,
                actor=actor,
                now=seed.clock.now(),
            )


async def _page_counts(database: Database) -> dict[tuple[int, int], int]:
    """How many pages each (incident number, level) received."""
    async with database.transaction() as session:
        rows = await session.execute(
            sa.select(Incident.number, Page.level, sa.func.count())
            .join(Page, Page.incident_id == Incident.id)
            .group_by(Incident.number, Page.level)
        )
        return {(number, level): count for number, level, count in rows}


async def test_two_engines_on_one_database_never_double_page_or_skip_a_step(
    seed: Seed, settings_url: str, clock: FrozenClock, world: World
) -> None:
    alice, bob = await seed.user("Alice"), await seed.user("Bob")
    team = await seed.team("Ops", [(alice, TeamRole.RESPONDER), (bob, TeamRole.RESPONDER)])
    service = await seed.service(team, await seed.policy(team, [(5, [alice]), (5, [bob])]))
    await _open_incidents(seed, service, 120)
    # Two engines with their own connection pools, as two processes would have.
    first, second = Database(settings_url, pool_size=3), Database(settings_url, pool_size=3)
    engines = [Engine(db, clock, Metrics(), batch_size=17) for db in (first, second)]
    try:
        for _ in range(3):
            for _ in range(12):
                await asyncio.gather(*(engine.tick() for engine in engines))
            clock.advance(minutes=5)
    finally:
        await first.dispose()
        await second.dispose()
    counts = await _page_counts(seed.database)
    numbers = {incident.number for incident in await world.incidents()}
    assert counts == {(number, level): 1 for number in numbers for level in (1, 2)}


async def test_an_engine_killed_mid_batch_loses_nothing_and_repeats_nothing(
    seed: Seed, settings_url: str, tmp_path: Path, world: World
) -> None:
    alice = await seed.user("Alice")
    team = await seed.team("Ops", [(alice, TeamRole.RESPONDER)])
    service = await seed.service(team, await seed.policy(team, [(60, [alice])]))
    total = 1500
    await _open_incidents(seed, service, total)
    env = {
        **os.environ,
        "TOCSIN_DATABASE_URL": settings_url,
        "TOCSIN_DATA_DIR": str(tmp_path),
        "TOCSIN_LOG_LEVEL": "warning",
        # Small batches: many commits, so the kill lands between some and inside one.
        "TOCSIN_ENGINE_BATCH_SIZE": "25",
    }
    worker = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "tocsin",
        "worker",
        env=env,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 120
        paged = 0
        # Kill it once it has committed some batches but not all: its current batch is
        # then in flight, inside an open transaction.
        while time.monotonic() < deadline and worker.returncode is None:
            paged = sum((await _page_counts(seed.database)).values())
            if paged > 0:
                break
            await asyncio.sleep(0.02)
        assert worker.returncode is None, await worker.stderr.read() if worker.stderr else b""
        worker.send_signal(signal.SIGKILL)
        await worker.communicate()
    finally:
        if worker.returncode is None:
            worker.kill()
            await worker.communicate()
    assert 0 < paged < total, f"the worker should have been killed part-way ({paged} paged)"

    # Another engine picks up whatever the dead one left: every incident paged once.
    finisher = Engine(seed.database, FrozenClock(seed.clock.now()), Metrics(), batch_size=500)
    for _ in range(10):
        await finisher.tick()
    counts = await _page_counts(seed.database)
    assert len(counts) == total
    assert set(counts.values()) == {1}
    assert all(incident.escalation_level == 1 for incident in await world.incidents())


async def test_a_step_that_fails_is_retried_later_and_the_rest_of_its_batch_pages_once(
    seed: Seed,
    engine: Engine,
    clock: FrozenClock,
    world: World,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    alice = await seed.user("Alice")
    team = await seed.team("Ops", [(alice, TeamRole.RESPONDER)])
    service = await seed.service(team, await seed.policy(team, [(5, [alice])]))
    await _open_incidents(seed, service, 5)
    incidents = await world.incidents()
    broken = incidents[2]
    working = steps.advance

    async def advance(session: AsyncSession, state: EscalationState, **options: Any) -> bool:
        if state.incident_id == broken.id:
            raise RuntimeError("a bug in one incident's step")
        return await working(session, state, **options)

    # The engine first runs its batch in one savepoint; the failure undoes all of it, and
    # every step runs again alone, so the others must still be paged exactly once.
    monkeypatch.setattr(steps, "advance", advance)
    await engine.tick()
    others = {(incident.number, 1): 1 for incident in incidents if incident is not broken}
    assert await _page_counts(seed.database) == others

    monkeypatch.setattr(steps, "advance", working)
    await engine.tick()
    assert await _page_counts(seed.database) == others  # not due again yet
    clock.advance(seconds=30)
    await engine.tick()
    assert await _page_counts(seed.database) == {**others, (broken.number, 1): 1}
