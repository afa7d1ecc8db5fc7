"""PostgreSQL goes away under load and comes back: tocsin answers fast, stays quiet, and
resumes by itself.

The app and an engine run on a database reached through a loopback proxy
(``tests/fakes/tcp_proxy.py``); the proxy is cut for ten seconds (every connection dropped,
new ones refused: what a restart does) while PagerDuty events arrive. Checked: every
request is answered within the connection wait plus a margin, only 202 or 503; every 202
is stored; readiness goes 200 → 503 → 200; an escalation that came due during the outage
pages right after the database is back; and the whole outage is a handful of log lines.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
import structlog

from tests.builders import SECRET, Seed
from tests.conftest import IsolatedSettings
from tests.fakes.tcp_proxy import Target, TcpProxy
from tests.scenarios.conftest import World
from tests.scenarios.support import crew, example
from tocsin.app import create_app
from tocsin.clock import FrozenClock
from tocsin.db.session import Database
from tocsin.engine.loop import Engine
from tocsin.logs import quiet_libraries
from tocsin.metrics import Metrics

WAIT = 1.0  # the connection wait of the app under test (db_wait_seconds)
MARGIN = 2.0  # what a shared CI machine may add to an answer
OUTAGE = 10.0
RATE = 20  # events a second


@dataclass
class Answer:
    dedup_key: str
    status: int
    seconds: float


@pytest.fixture
async def proxy(database: Database) -> AsyncIterator[TcpProxy]:
    running = TcpProxy(Target.of(database.conninfo))
    await running.start()
    yield running
    await running.close()


@pytest.fixture
async def proxied(proxy: TcpProxy, database: Database) -> AsyncIterator[Database]:
    """The test's database, reached through the proxy."""
    dbname = database.engine.url.database
    through = Database(
        f"postgresql://postgres@127.0.0.1:{proxy.port}/{dbname}",
        pool_size=5,
        max_overflow=20,
        wait=WAIT,
    )
    yield through
    await through.dispose()


async def test_a_database_outage_under_load_is_answered_fast_logged_once_and_recovered(
    seed: Seed,
    clock: FrozenClock,
    proxy: TcpProxy,
    proxied: Database,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    team = await crew(seed)
    _, key = await seed.integration(team.service, kind="pagerduty_events_v2")
    settings = IsolatedSettings(
        database_url=proxied.url,
        data_dir=tmp_path,
        secret_key="k" * 32,
        db_wait_seconds=WAIT,
        ingest_rate_per_minute=0,
    )
    metrics = Metrics()
    app = create_app(
        settings=settings, clock=clock, database=proxied, secret=SECRET, metrics=metrics
    )
    # A long poll: only the database coming back may wake the engine in time.
    engine = Engine(proxied, clock, metrics, poll_interval=timedelta(seconds=60))
    stopping = asyncio.Event()
    quiet_libraries(logging.INFO)
    caplog.set_level(logging.WARNING)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="https://tocsin.test"
    ) as client:
        first = await _trigger(client, key, "before-the-outage")
        assert first.status == 202
        running = asyncio.create_task(engine.run(stopping))
        world = World(proxied)
        await _until(lambda: _pages(world, 1), within=10)

        with structlog.testing.capture_logs() as logged:
            answers: list[Answer] = []
            readiness: list[tuple[int, float]] = []
            load = asyncio.create_task(_send_load(client, key, answers, seconds=OUTAGE + 6))
            probes = asyncio.create_task(_probe_readiness(client, readiness, seconds=OUTAGE + 6))
            await asyncio.sleep(2)
            await proxy.cut()
            cut_at = time.monotonic()
            # Bob's level comes due while the database is away.
            clock.advance(minutes=5)
            await asyncio.sleep(OUTAGE)
            await proxy.restore()
            back_at = time.monotonic()
            await _until(lambda: _pages(world, 2), within=10)
            paged_after = time.monotonic() - back_at
            await asyncio.gather(load, probes)
        assert metrics.render().count(b"tocsin_database_up 1.0") == 1
        stopping.set()
        await running

    statuses = {answer.status for answer in answers}
    assert statuses <= {202, 503}, statuses
    assert 503 in statuses
    assert 202 in statuses
    slowest = max(answer.seconds for answer in answers)
    assert slowest < WAIT + MARGIN, slowest
    stored = {alert.dedup_key for alert in await World(proxied).alerts()}
    accepted = {answer.dedup_key for answer in answers if answer.status == 202}
    assert accepted <= stored, accepted - stored

    statuses_in_order = [status for status, _ in readiness]
    assert statuses_in_order[0] == 200
    assert statuses_in_order[-1] == 200
    assert 503 in statuses_in_order
    assert max(seconds for _, seconds in readiness) < 1.0 + MARGIN

    # The escalation that came due during the outage ran once the database was back,
    # woken by its return, not by the minute-long poll.
    assert paged_after < 10
    assert back_at - cut_at >= OUTAGE

    lines = [entry["event"] for entry in logged]
    lines += [record.getMessage() for record in caplog.records]
    assert len(lines) < 20, lines
    assert [entry["event"] for entry in logged if entry["log_level"] == "warning"].count(
        "database unreachable"
    ) == 1
    assert "database reachable again" in [entry["event"] for entry in logged]


async def _trigger(client: httpx.AsyncClient, key: str, dedup_key: str) -> Answer:
    event = {
        **example("pagerduty_events_v2", "trigger"),
        "routing_key": key,
        "dedup_key": dedup_key,
    }
    started = time.monotonic()
    response = await client.post("/v2/enqueue", json=event)
    return Answer(dedup_key, response.status_code, time.monotonic() - started)


async def _send_load(
    client: httpx.AsyncClient, key: str, answers: list[Answer], *, seconds: float
) -> None:
    async def one(dedup_key: str) -> None:
        answers.append(await _trigger(client, key, dedup_key))

    sent: list[asyncio.Task[None]] = []
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        sent.append(asyncio.create_task(one(f"load-{uuid.uuid4().hex[:12]}")))
        await asyncio.sleep(1 / RATE)
    await asyncio.gather(*sent)


async def _probe_readiness(
    client: httpx.AsyncClient, readiness: list[tuple[int, float]], *, seconds: float
) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        started = time.monotonic()
        status = (await client.get("/readyz")).status_code
        readiness.append((status, time.monotonic() - started))
        await asyncio.sleep(0.5)


async def _pages(world: World, count: int) -> bool:
    return len(await world.pages()) >= count


async def _until(condition: Callable[[], Awaitable[bool]], *, within: float) -> None:
    deadline = time.monotonic() + within
    while not await condition():
        assert time.monotonic() < deadline, "the condition did not hold in time"
        await asyncio.sleep(0.1)
