"""Races against PostgreSQL: many requests at once through the ASGI app, each in its own
transaction on its own connection, and exactly one outcome however they interleave."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator, Awaitable
from typing import Any

import httpx
import pytest

from tests.builders import Seed
from tests.conftest import pooled_database
from tests.scenarios.conftest import send, trigger
from tests.scenarios.support import Records, crew
from tocsin.actions.actors import system_actor
from tocsin.actions.identity import teams
from tocsin.config import Settings
from tocsin.db.session import Database
from tocsin.domain.access import TeamRole
from tocsin.engine.loop import Engine

CROWD = 50


@pytest.fixture
async def database(settings: Settings) -> AsyncIterator[Database]:
    """Enough connections for most of the crowd to hold a transaction at the same time,
    so requests really do race inside PostgreSQL rather than queue for the pool."""
    async with pooled_database(settings, 20) as db:
        yield db


@pytest.fixture
def world(database: Database) -> Records:
    return Records(database)


async def at_once(requests: list[Awaitable[httpx.Response]]) -> list[httpx.Response]:
    return list(await asyncio.gather(*requests))


def outcomes(responses: list[httpx.Response]) -> Counter[str]:
    found: Counter[str] = Counter()
    for response in responses:
        assert response.status_code == 202, response.text
        found.update(result["result"] for result in response.json()["results"])
    return found


async def test_fifty_identical_triggers_at_once_make_one_alert_counted_fifty_times(
    client: httpx.AsyncClient, seed: Seed, engine: Engine, world: Records
) -> None:
    team = await crew(seed)
    _, key = await seed.integration(team.service)
    responses = await at_once([send(client, key, trigger("db-1/disk")) for _ in range(CROWD)])
    assert outcomes(responses) == {"created": 1, "deduplicated": CROWD - 1}
    assert {r.json()["results"][0]["incident_number"] for r in responses} == {
        (await world.incident()).number
    }
    alert = await world.alert("db-1/disk")
    assert alert.count == CROWD
    await engine.tick()
    assert await world.paged() == [team.alice.name]


async def test_fifty_triggers_with_fifty_keys_at_once_make_fifty_incidents(
    client: httpx.AsyncClient, seed: Seed, engine: Engine, world: Records
) -> None:
    team = await crew(seed)
    _, key = await seed.integration(team.service)
    responses = await at_once(
        [send(client, key, trigger(f"disk-{number}")) for number in range(CROWD)]
    )
    assert outcomes(responses) == {"created": CROWD}
    incidents = await world.incidents()
    assert len(incidents) == CROWD
    assert {incident.alert_count for incident in incidents} == {1}
    assert len({alert.incident_id for alert in await world.alerts()}) == CROWD
    await engine.tick()
    assert await world.paged() == [team.alice.name] * CROWD


async def test_fifty_alerts_of_one_group_at_once_make_one_incident_with_fifty_alerts(
    client: httpx.AsyncClient, seed: Seed, engine: Engine, world: Records
) -> None:
    team = await crew(seed)
    _, key = await seed.integration(team.service, grouping_fields=("labels.alertname",))
    responses = await at_once(
        [
            send(client, key, trigger(f"pod-{n}", labels={"alertname": "CrashLooping"}))
            for n in range(CROWD)
        ]
    )
    assert outcomes(responses) == {"created": 1, "grouped": CROWD - 1}
    incident = await world.incident()
    assert incident.alert_count == CROWD
    assert len(await world.alerts_of(incident)) == CROWD
    await engine.tick()
    assert await world.paged() == [team.alice.name]


async def test_the_last_alerts_of_an_incident_resolving_together_resolve_it_once(
    client: httpx.AsyncClient, seed: Seed, world: Records
) -> None:
    team = await crew(seed)
    _, key = await seed.integration(team.service, grouping_fields=("labels.alertname",))
    for n in range(10):
        await send(client, key, trigger(f"pod-{n}", labels={"alertname": "CrashLooping"}))
    responses = await at_once(
        [send(client, key, {"action": "resolve", "dedup_key": f"pod-{n}"}) for n in range(10)]
    )
    assert outcomes(responses) == {"resolved": 10}
    incident = await world.incident()
    assert incident.status.value == "resolved"
    assert (await world.actions(incident)).count("incident.resolved") == 1


async def test_fifty_acknowledgements_at_once_have_one_winner_and_forty_nine_409s_naming_it(
    seed: Seed, client: httpx.AsyncClient, engine: Engine, world: Records
) -> None:
    team = await crew(seed)
    _, key = await seed.integration(team.service)
    responders = [await seed.user(f"Responder {n}") for n in range(CROWD)]
    async with seed.database.transaction() as session:
        for user in responders:
            await teams.add_member(
                session,
                actor=system_actor("test seed"),
                team_id=team.team.id,
                user_id=user.id,
                role=TeamRole.RESPONDER,
                now=seed.clock.now(),
            )
    clients = [await seed.as_user(user) for user in responders]
    await send(client, key, trigger("db-1/disk"))
    await engine.tick()
    incident = await world.incident()
    url = f"/api/v1/incidents/{incident.id}/acknowledge"
    responses = await at_once([responder.post(url) for responder in clients])

    statuses = Counter(response.status_code for response in responses)
    assert statuses == {200: 1, 409: CROWD - 1}
    [won] = [r for r in responses if r.status_code == 200]
    winner = won.json()["acknowledged_by"]
    assert winner in {user.email for user in responders}
    acknowledged_at = won.json()["acknowledged_at"]
    for lost in (r for r in responses if r.status_code == 409):
        problem: dict[str, Any] = lost.json()
        assert problem["type"] == "/problems/stale-transition"
        assert problem["status"] == 409
        assert problem["incident_status"] == "acknowledged"
        assert problem["by"] == winner
        assert problem["at"].replace("+00:00", "Z") == acknowledged_at.replace("+00:00", "Z")
        assert winner in problem["detail"]
    assert (await world.actions(incident)).count("incident.acknowledged") == 1


async def test_repeats_racing_a_resolve_by_hand_all_succeed_and_none_fires_on_a_resolved_incident(
    client: httpx.AsyncClient, seed: Seed, world: Records
) -> None:
    team = await crew(seed)
    _, key = await seed.integration(team.service)
    carol = await seed.as_user(team.carol)
    for round_ in range(5):
        await send(client, key, trigger("db-1/disk"))
        incident = next(i for i in await world.incidents() if i.status.value == "triggered")
        requests: list[Awaitable[httpx.Response]] = [
            send(client, key, trigger("db-1/disk")) for _ in range(20)
        ]
        requests.insert(10, carol.post(f"/api/v1/incidents/{incident.id}/resolve"))
        responses = await at_once(requests)
        failed = [r.text for r in responses if r.status_code not in (200, 202)]
        assert failed == [], f"round {round_}"
        # Every firing alert belongs to an open incident, and the resolved one fires no more.
        incidents = {i.id: i for i in await world.incidents()}
        for alert in await world.alerts():
            if alert.status.value == "firing":
                assert incidents[alert.incident_id].status.value == "triggered"
        assert incidents[incident.id].status.value == "resolved"
        await send(client, key, {"action": "resolve", "dedup_key": "db-1/disk"})
