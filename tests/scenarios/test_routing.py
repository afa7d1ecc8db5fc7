"""Routing: a global integration sends each alert to the service of the first rule that
matches it, and everything else to its fallback service; nothing is ever dropped."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from tests.builders import Seed
from tests.scenarios.conftest import send, trigger
from tests.scenarios.support import Crew, Records, crew
from tocsin.db.models.incidents import Incident
from tocsin.db.session import Database
from tocsin.engine.loop import Engine


@pytest.fixture
def world(database: Database) -> Records:
    return Records(database)


@dataclass(frozen=True)
class Routed:
    key: str
    eu: Crew
    databases: Crew
    web: Crew
    fallback: Crew


async def routed(seed: Seed) -> Routed:
    """Rule 1: the eu-1 cluster. Rule 2: a title about databases (a regex). Rule 3: info
    alerts of a web team (two conditions). Anything else: the fallback service."""
    eu = await crew(seed, "Europe")
    databases = await crew(seed, "Databases")
    web = await crew(seed, "Web")
    fallback = await crew(seed, "Operations")
    _, key = await seed.integration(
        fallback.service,
        routes=[
            (eu.service, [("labels.cluster", "equals", "eu-1")]),
            (databases.service, [("title", "matches", r"(?i)\b(postgres|database)\b")]),
            (
                web.service,
                [("severity", "equals", "info"), ("labels.team", "matches", r"^web(-|$)")],
            ),
        ],
    )
    return Routed(key, eu, databases, web, fallback)


def route_of(timeline: list[tuple[str, dict[str, Any]]]) -> object:
    details = next(details for action, details in timeline if action == "incident.triggered")
    return details.get("routed")


async def only_incident_of(world: Records, crew_: Crew) -> Incident:
    found = [i for i in await world.incidents() if i.service_id == crew_.service.id]
    assert len(found) == 1, f"expected one incident on {crew_.service.name}, found {len(found)}"
    return found[0]


async def test_an_alert_goes_to_the_first_matching_rule_even_if_a_later_one_matches_too(
    client: httpx.AsyncClient, seed: Seed, engine: Engine, world: Records
) -> None:
    setup = await routed(seed)
    response = await send(
        client, setup.key, trigger("pg-1", "Postgres primary down", labels={"cluster": "eu-1"})
    )
    assert response.status_code == 202, response.text
    await engine.tick()
    incident = await only_incident_of(world, setup.eu)
    assert route_of(await world.timeline(incident)) == "rule 1"
    assert await world.paged() == [setup.eu.alice.name]


async def test_a_regex_rule_on_a_field_routes_the_alert(
    client: httpx.AsyncClient, seed: Seed, engine: Engine, world: Records
) -> None:
    setup = await routed(seed)
    await send(client, setup.key, trigger("pg-1", "Postgres primary down"))
    await engine.tick()
    incident = await only_incident_of(world, setup.databases)
    assert route_of(await world.timeline(incident)) == "rule 2"
    assert await world.paged() == [setup.databases.alice.name]


async def test_a_rule_with_two_conditions_needs_both(
    client: httpx.AsyncClient, seed: Seed, world: Records
) -> None:
    setup = await routed(seed)
    info = {"severity": "info", "labels": {"team": "web-frontend"}}
    await send(client, setup.key, {**trigger("cdn-1", "CDN cache cold"), **info})
    await send(
        client, setup.key, {**trigger("cdn-2", "CDN cache cold"), **info, "severity": "warning"}
    )
    web = await only_incident_of(world, setup.web)
    assert route_of(await world.timeline(web)) == "rule 3"
    fallback = await only_incident_of(world, setup.fallback)
    assert [alert.dedup_key for alert in await world.alerts_of(fallback)] == ["cdn-2"]


async def test_an_alert_that_matches_no_rule_goes_to_the_fallback_service_and_says_so(
    client: httpx.AsyncClient, seed: Seed, engine: Engine, world: Records
) -> None:
    setup = await routed(seed)
    response = await send(
        client, setup.key, trigger("disk", "Disk full on web-9", labels={"cluster": "us-1"})
    )
    assert response.status_code == 202, response.text
    assert response.json()["results"][0]["result"] == "created"
    await engine.tick()
    incident = await only_incident_of(world, setup.fallback)
    assert route_of(await world.timeline(incident)) == "fallback service"
    assert await world.paged() == [setup.fallback.alice.name]


async def test_a_missing_label_never_matches_a_rule(
    client: httpx.AsyncClient, seed: Seed, world: Records
) -> None:
    team = await crew(seed, "Blank")
    fallback = await crew(seed, "Fallback")
    _, key = await seed.integration(
        fallback.service, routes=[(team.service, [("labels.cluster", "equals", "")])]
    )
    await send(client, key, trigger("no-labels"))
    await send(client, key, trigger("blank-cluster", labels={"cluster": ""}))
    fallback_incident = await only_incident_of(world, fallback)
    assert [a.dedup_key for a in await world.alerts_of(fallback_incident)] == ["no-labels"]
    blank_incident = await only_incident_of(world, team)
    assert [a.dedup_key for a in await world.alerts_of(blank_incident)] == ["blank-cluster"]


async def test_one_batch_is_routed_alert_by_alert(
    client: httpx.AsyncClient, seed: Seed, world: Records
) -> None:
    setup = await routed(seed)
    response = await client.post(
        f"/ingest/{setup.key}",
        json=[
            trigger("a", "Queue slow", labels={"cluster": "eu-1"}),
            trigger("b", "Database replica lagging"),
            trigger("c", "Something odd"),
        ],
    )
    assert [r["result"] for r in response.json()["results"]] == ["created"] * 3
    for expected, dedup_key in ((setup.eu, "a"), (setup.databases, "b"), (setup.fallback, "c")):
        incident = await only_incident_of(world, expected)
        assert [alert.dedup_key for alert in await world.alerts_of(incident)] == [dedup_key]


async def test_a_routed_alert_deduplicates_and_resolves_like_any_other(
    client: httpx.AsyncClient, seed: Seed, world: Records
) -> None:
    setup = await routed(seed)
    await send(client, setup.key, trigger("pg-1", "Postgres primary down"))
    repeat = await send(client, setup.key, trigger("pg-1", "Postgres primary down"))
    assert repeat.json()["results"][0]["result"] == "deduplicated"
    # A resolve carries no title: it finds its alert by identity, whatever rule routed it.
    resolved = await send(client, setup.key, {"action": "resolve", "dedup_key": "pg-1"})
    assert resolved.json()["results"][0]["result"] == "resolved"
    incident = await only_incident_of(world, setup.databases)
    assert incident.status.value == "resolved"


async def test_pagerduty_events_through_a_global_integration_are_routed_by_their_fields(
    client: httpx.AsyncClient, seed: Seed, world: Records
) -> None:
    europe = await crew(seed, "Europe")
    fallback = await crew(seed, "Operations")
    _, key = await seed.integration(
        fallback.service,
        kind="pagerduty_events_v2",
        routes=[(europe.service, [("labels.group", "matches", "^prod-")])],
    )
    event = {
        "routing_key": key,
        "event_action": "trigger",
        "payload": {
            "summary": "Disk at 99%",
            "source": "db-3",
            "severity": "critical",
            "group": "prod-datapipe",
        },
    }
    response = await client.post("/v2/enqueue", json=event)
    assert response.status_code == 202, response.text
    incident = await only_incident_of(world, europe)
    assert route_of(await world.timeline(incident)) == "rule 1"
