"""Group commit on intake (``db/group_commit.py``): PagerDuty events arriving together share
transactions, yet each request is applied exactly once, answered only once durable, and a
refused request never takes its neighbours down with it."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from sqlalchemy import text

from tests.builders import Seed
from tests.conftest import pooled_database
from tests.scenarios.support import Records, crew
from tocsin.config import Settings
from tocsin.db.session import Database
from tocsin.engine.loop import Engine

CROWD = 40


@pytest.fixture
async def database(settings: Settings) -> AsyncIterator[Database]:
    async with pooled_database(settings, 10) as db:
        yield db


@pytest.fixture
def world(database: Database) -> Records:
    return Records(database)


def event(routing_key: str, dedup_key: str) -> dict[str, Any]:
    return {
        "routing_key": routing_key,
        "event_action": "trigger",
        "dedup_key": dedup_key,
        "payload": {"summary": f"Disk full ({dedup_key})", "source": "db-1", "severity": "error"},
    }


async def enqueue_all(
    client: httpx.AsyncClient, events: list[dict[str, Any]], **headers: str
) -> list[httpx.Response]:
    return list(
        await asyncio.gather(
            *(client.post("/v2/enqueue", json=body, headers=headers) for body in events)
        )
    )


async def transactions_that_logged(database: Database) -> int:
    """How many transactions wrote the intake log (rows one transaction inserted share
    its id in ``xmin``)."""
    async with database.transaction() as session:
        found = await session.scalar(text("SELECT count(DISTINCT xmin::text) FROM inbound_event"))
    return int(found or 0)


async def test_identical_events_at_once_share_transactions_and_count_one_alert_once_each(
    client: httpx.AsyncClient, seed: Seed, engine: Engine, world: Records, database: Database
) -> None:
    team = await crew(seed)
    _, key = await seed.integration(team.service, kind="pagerduty_events_v2")
    responses = await enqueue_all(client, [event(key, "db-1/disk")] * CROWD)
    assert {response.status_code for response in responses} == {202}
    assert {response.json()["dedup_key"] for response in responses} == {"db-1/disk"}
    assert (await world.alert("db-1/disk")).count == CROWD
    assert len(await world.incidents()) == 1
    assert len(await world.inbound_events()) == CROWD
    assert await transactions_that_logged(database) <= CROWD // 4
    await engine.tick()
    assert await world.paged() == [team.alice.name]


async def test_new_alerts_at_once_each_open_their_own_incident_paged_once(
    client: httpx.AsyncClient, seed: Seed, engine: Engine, world: Records
) -> None:
    team = await crew(seed)
    _, key = await seed.integration(team.service, kind="pagerduty_events_v2")
    responses = await enqueue_all(client, [event(key, f"disk-{n}") for n in range(CROWD)])
    assert {response.status_code for response in responses} == {202}
    incidents = await world.incidents()
    assert len(incidents) == CROWD
    assert len({incident.number for incident in incidents}) == CROWD
    await engine.tick()
    assert await world.paged() == [team.alice.name] * CROWD


async def test_a_refused_request_in_a_shared_transaction_fails_alone(
    client: httpx.AsyncClient, seed: Seed, world: Records
) -> None:
    """An Opsgenie create bearing an unknown key is refused inside the transaction it
    shares with PagerDuty events (both routes queue on the one group commit). The
    transaction rolls back and its neighbours run again alone: each is still applied
    exactly once."""
    team = await crew(seed)
    _, key = await seed.integration(team.service, kind="pagerduty_events_v2")
    refused = client.post(
        "/v2/alerts",
        json={"message": "Disk full", "alias": "db-1/disk"},
        headers={"Authorization": "GenieKey tik_unknown"},
    )
    responses = await asyncio.gather(
        *(client.post("/v2/enqueue", json=body) for body in [event(key, "db-1/disk")] * 10),
        refused,
    )
    assert [response.status_code for response in responses] == [202] * 10 + [401]
    assert (await world.alert("db-1/disk")).count == 10
    assert len(await world.inbound_events()) == 10


async def test_retries_of_one_event_in_a_shared_transaction_apply_it_once(
    client: httpx.AsyncClient, seed: Seed, world: Records
) -> None:
    team = await crew(seed)
    _, key = await seed.integration(team.service, kind="pagerduty_events_v2")
    responses = await enqueue_all(
        client, [event(key, "db-1/disk")] * 10, **{"Idempotency-Key": "evt-1"}
    )
    assert {response.status_code for response in responses} == {202}
    assert (await world.alert("db-1/disk")).count == 1
    applied = [event for event in await world.inbound_events() if event.outcome.value == "applied"]
    assert len(applied) == 1
