"""Deduplication (one alert per identity while it fires) and grouping (alerts that share
an incident), one behaviour per test."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.builders import Seed
from tests.scenarios.conftest import send, trigger
from tests.scenarios.support import Crew, Records, crew
from tocsin.clock import FrozenClock
from tocsin.db.session import Database
from tocsin.engine.loop import Engine

GROUP_BY = ("labels.alertname", "labels.cluster")


@pytest.fixture
def world(database: Database) -> Records:
    return Records(database)


def results(response: httpx.Response) -> list[str]:
    assert response.status_code == 202, response.text
    return [result["result"] for result in response.json()["results"]]


def crash_loop(dedup_key: str, cluster: str = "eu-1", **fields: Any) -> dict[str, Any]:
    return trigger(
        dedup_key,
        title=f"Pod {dedup_key} crash looping",
        labels={"alertname": "KubePodCrashLooping", "cluster": cluster},
        **fields,
    )


async def grouped(seed: Seed, window_minutes: int = 30) -> tuple[Crew, str]:
    team = await crew(seed)
    _, key = await seed.integration(
        team.service, grouping_fields=GROUP_BY, grouping_window_minutes=window_minutes
    )
    return team, key


# Deduplication


async def test_a_repeat_trigger_counts_on_the_open_alert_and_keeps_the_latest_payload(
    client: httpx.AsyncClient, seed: Seed, engine: Engine, world: Records, clock: FrozenClock
) -> None:
    team = await crew(seed)
    _, key = await seed.integration(team.service)
    await send(client, key, trigger("db-1/disk", description="91% used", labels={"pct": "91"}))
    await engine.tick()
    clock.advance(minutes=2)
    repeat = await send(
        client, key, trigger("db-1/disk", "Disk fuller on db-1", description="97% used")
    )
    assert results(repeat) == ["deduplicated"]
    alert = await world.alert("db-1/disk")
    assert alert.count == 2
    assert (alert.title, alert.description, alert.labels) == ("Disk fuller on db-1", "97% used", {})
    assert alert.first_seen_at < alert.last_seen_at == clock.now()
    incident = await world.incident()
    assert repeat.json()["results"][0]["incident_number"] == incident.number
    assert incident.last_alert_at == clock.now()
    assert (await world.actions(incident))[-1] == "alert.deduplicated"


async def test_a_repeat_trigger_opens_no_incident_and_pages_nobody(
    client: httpx.AsyncClient, seed: Seed, engine: Engine, world: Records, clock: FrozenClock
) -> None:
    team = await crew(seed)
    _, key = await seed.integration(team.service)
    await send(client, key, trigger("db-1/disk"))
    await engine.tick()
    for _ in range(3):
        clock.advance(minutes=1)
        await send(client, key, trigger("db-1/disk"))
        await engine.tick()
    assert len(await world.incidents()) == 1
    assert await world.pages() == [(team.alice.name, 1, 0)]
    assert (await world.alert("db-1/disk")).count == 4


async def test_a_repeat_trigger_leaves_an_acknowledged_incident_acknowledged(
    client: httpx.AsyncClient, seed: Seed, engine: Engine, world: Records, clock: FrozenClock
) -> None:
    team = await crew(seed)
    _, key = await seed.integration(team.service)
    await send(client, key, trigger("db-1/disk"))
    await engine.tick()
    alice = await seed.as_user(team.alice)
    incident = await world.incident()
    await alice.post(f"/api/v1/incidents/{incident.id}/acknowledge")
    clock.advance(minutes=10)
    assert results(await send(client, key, trigger("db-1/disk"))) == ["deduplicated"]
    await engine.tick()
    assert (await world.incident()).status.value == "acknowledged"
    assert await world.paged() == [team.alice.name]


async def test_after_resolution_a_trigger_for_the_same_key_opens_a_new_incident(
    client: httpx.AsyncClient, seed: Seed, engine: Engine, world: Records, clock: FrozenClock
) -> None:
    team = await crew(seed)
    _, key = await seed.integration(team.service)
    await send(client, key, trigger("db-1/disk"))
    await engine.tick()
    await send(client, key, {"action": "resolve", "dedup_key": "db-1/disk"})
    clock.advance(minutes=1)
    again = await send(client, key, trigger("db-1/disk"))
    assert results(again) == ["created"]
    await engine.tick()
    first, second = await world.incidents()
    assert (first.status.value, second.status.value) == ("resolved", "triggered")
    assert again.json()["results"][0]["incident_number"] == second.number
    assert await world.paged(second) == [team.alice.name]
    old, new = sorted(await world.alerts(), key=lambda alert: alert.first_seen_at)
    assert (old.status.value, old.count, new.status.value, new.count) == (
        "resolved",
        1,
        "firing",
        1,
    )


async def test_the_same_key_on_two_integrations_is_two_alerts(
    client: httpx.AsyncClient, seed: Seed, world: Records
) -> None:
    team = await crew(seed)
    _, first_key = await seed.integration(team.service)
    _, second_key = await seed.integration(team.service)
    await send(client, first_key, trigger("db-1/disk"))
    assert results(await send(client, second_key, trigger("db-1/disk"))) == ["created"]
    assert len(await world.incidents()) == 2


# Grouping


async def test_an_alert_with_the_same_group_values_joins_the_open_incident_and_pages_nobody(
    client: httpx.AsyncClient, seed: Seed, engine: Engine, world: Records, clock: FrozenClock
) -> None:
    team, key = await grouped(seed)
    await send(client, key, crash_loop("billing-worker-1"))
    await engine.tick()
    clock.advance(minutes=2)
    joined = await send(client, key, crash_loop("billing-worker-2"))
    assert results(joined) == ["grouped"]
    await engine.tick()
    incident = await world.incident()
    assert joined.json()["results"][0]["incident_number"] == incident.number
    assert incident.alert_count == 2
    assert incident.title == "Pod billing-worker-1 crash looping"
    assert [alert.dedup_key for alert in await world.alerts_of(incident)] == [
        "billing-worker-1",
        "billing-worker-2",
    ]
    assert await world.paged() == [team.alice.name]
    assert (await world.actions(incident))[-2:] == ["incident.paged", "alert.grouped"]


async def test_an_alert_from_another_cluster_opens_another_incident(
    client: httpx.AsyncClient, seed: Seed, engine: Engine, world: Records
) -> None:
    team, key = await grouped(seed)
    await send(client, key, crash_loop("billing-worker-1", cluster="eu-1"))
    other = await send(client, key, crash_loop("billing-worker-2", cluster="us-1"))
    assert results(other) == ["created"]
    await engine.tick()
    eu, us = await world.incidents()
    assert eu.group_key != us.group_key
    assert await world.paged(us) == [team.alice.name]


async def test_after_the_window_a_matching_alert_opens_a_new_incident(
    client: httpx.AsyncClient, seed: Seed, engine: Engine, world: Records, clock: FrozenClock
) -> None:
    team, key = await grouped(seed, window_minutes=30)
    await send(client, key, crash_loop("billing-worker-1"))
    clock.advance(minutes=30, seconds=1)
    late = await send(client, key, crash_loop("billing-worker-2"))
    assert results(late) == ["created"]
    await engine.tick()
    first, second = await world.incidents()
    assert first.status.value == second.status.value == "triggered"
    assert await world.paged(second) == [team.alice.name]


async def test_the_window_slides_with_each_alert_that_joins(
    client: httpx.AsyncClient, seed: Seed, world: Records, clock: FrozenClock
) -> None:
    _, key = await grouped(seed, window_minutes=30)
    outcomes = []
    for number in range(4):
        outcomes += results(await send(client, key, crash_loop(f"billing-worker-{number}")))
        clock.advance(minutes=25)
    assert outcomes == ["created", "grouped", "grouped", "grouped"]
    assert (await world.incident()).alert_count == 4


async def test_a_grouped_incident_resolves_only_when_all_its_alerts_resolve(
    client: httpx.AsyncClient, seed: Seed, world: Records
) -> None:
    _, key = await grouped(seed)
    await send(client, key, crash_loop("billing-worker-1"))
    await send(client, key, crash_loop("billing-worker-2"))
    first = await send(client, key, {"action": "resolve", "dedup_key": "billing-worker-1"})
    assert results(first) == ["resolved"]
    incident = await world.incident()
    assert incident.status.value == "triggered"
    await send(client, key, {"action": "resolve", "dedup_key": "billing-worker-2"})
    incident = await world.incident()
    assert incident.status.value == "resolved"
    assert "incident.resolved" in await world.actions(incident)
    _, details = (await world.timeline(incident))[-1]
    assert details["note"] == "all of its alerts resolved"


async def test_resolving_a_grouped_incident_resolves_every_alert_in_it(
    client: httpx.AsyncClient, seed: Seed, engine: Engine, world: Records
) -> None:
    team, key = await grouped(seed)
    await send(client, key, crash_loop("billing-worker-1"))
    await send(client, key, crash_loop("billing-worker-2"))
    await engine.tick()
    incident = await world.incident()
    carol = await seed.as_user(team.carol)
    resolved = await carol.post(f"/api/v1/incidents/{incident.id}/resolve")
    assert resolved.status_code == 200, resolved.text
    assert {alert.status.value for alert in await world.alerts()} == {"resolved"}
    # The identities are free again: the next trigger opens (and pages) a new incident.
    assert results(await send(client, key, crash_loop("billing-worker-2"))) == ["created"]
    await engine.tick()
    _, new = await world.incidents()
    assert await world.paged(new) == [team.alice.name]


async def test_a_matching_alert_does_not_join_a_resolved_incident(
    client: httpx.AsyncClient, seed: Seed, world: Records
) -> None:
    _, key = await grouped(seed)
    await send(client, key, crash_loop("billing-worker-1"))
    await send(client, key, {"action": "resolve", "dedup_key": "billing-worker-1"})
    assert results(await send(client, key, crash_loop("billing-worker-2"))) == ["created"]
    assert len(await world.incidents()) == 2


async def test_a_repeat_of_a_grouped_alert_is_deduplicated_not_grouped_again(
    client: httpx.AsyncClient, seed: Seed, world: Records
) -> None:
    _, key = await grouped(seed)
    await send(client, key, crash_loop("billing-worker-1"))
    await send(client, key, crash_loop("billing-worker-2"))
    assert results(await send(client, key, crash_loop("billing-worker-2"))) == ["deduplicated"]
    incident = await world.incident()
    assert incident.alert_count == 2
    assert (await world.alert("billing-worker-2")).count == 2
