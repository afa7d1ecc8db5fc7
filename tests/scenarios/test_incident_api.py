"""The incident API around the pipeline: incidents opened by hand, notes, the list's
filters, and the timeline that tells an incident's story in order."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import httpx
import pytest

from tests.builders import Seed
from tests.scenarios.conftest import send, trigger
from tests.scenarios.support import Crew, Records, crew
from tocsin.clock import FrozenClock
from tocsin.db.session import Database
from tocsin.domain.access import TeamRole
from tocsin.engine.loop import Engine


@pytest.fixture
def world(database: Database) -> Records:
    return Records(database)


async def open_by_hand(
    client: httpx.AsyncClient, team: Crew, title: str = "Checkout is down", **fields: Any
) -> dict[str, Any]:
    response = await client.post(
        "/api/v1/incidents", json={"service_id": str(team.service.id), "title": title, **fields}
    )
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


# Incidents opened by hand


async def test_an_incident_opened_by_hand_escalates_like_any_other(
    seed: Seed, engine: Engine, world: Records, clock: FrozenClock
) -> None:
    team = await crew(seed)
    carol = await seed.as_user(team.carol)
    created = await open_by_hand(carol, team, description="Customers see 502s")
    assert created["status"] == "triggered"
    assert created["urgency"] == "high"
    assert created["alert_count"] == 1
    [alert] = created["alerts"]
    assert alert["title"] == "Checkout is down"
    assert [event["action"] for event in created["timeline"]] == [
        "incident.triggered",
        "alert.received",
    ]
    assert created["timeline"][0]["details"]["opened_by"] == team.carol.email
    await engine.tick()
    assert await world.paged() == [team.alice.name]
    clock.advance(minutes=5)
    await engine.tick()
    assert await world.paged() == [team.alice.name, team.bob.name]


async def test_an_incident_opened_by_hand_resolves_with_its_alert(
    seed: Seed, world: Records
) -> None:
    team = await crew(seed)
    carol = await seed.as_user(team.carol)
    created = await open_by_hand(carol, team)
    resolved = await carol.post(
        f"/api/v1/incidents/{created['id']}/resolve", json={"note": "rolled back"}
    )
    assert resolved.status_code == 200, resolved.text
    assert resolved.json()["resolved_by"] == team.carol.email
    [alert] = await world.alerts()
    assert alert.status.value == "resolved"


async def test_an_observer_may_not_open_an_incident(seed: Seed, world: Records) -> None:
    team = await crew(seed)
    watcher = await seed.user("Watcher")
    await seed.team("Watchers", [(watcher, TeamRole.OBSERVER)])
    client = await seed.as_user(watcher)
    response = await client.post(
        "/api/v1/incidents", json={"service_id": str(team.service.id), "title": "x"}
    )
    assert response.status_code == 403
    assert await world.incidents() == []


async def test_opening_an_incident_on_an_unknown_service_is_422_naming_the_field(
    seed: Seed,
) -> None:
    team = await crew(seed)
    carol = await seed.as_user(team.carol)
    response = await carol.post(
        "/api/v1/incidents",
        json={"service_id": "00000000-0000-4000-8000-000000000000", "title": "x"},
    )
    assert response.status_code == 422
    assert response.json()["field"] == "service_id"


# Notes and conflicts


async def test_a_note_appears_on_the_timeline_with_its_author(seed: Seed) -> None:
    team = await crew(seed)
    carol = await seed.as_user(team.carol)
    created = await open_by_hand(carol, team)
    alice = await seed.as_user(team.alice)
    noted = await alice.post(
        f"/api/v1/incidents/{created['id']}/notes", json={"text": "  Rolling back 4.2.1  "}
    )
    assert noted.status_code == 204, noted.text
    timeline = (await carol.get(f"/api/v1/incidents/{created['id']}/timeline")).json()
    last = timeline[-1]
    assert (last["action"], last["actor_label"], last["details"]) == (
        "incident.note_added",
        team.alice.email,
        {"note": "Rolling back 4.2.1"},
    )


async def test_acknowledging_a_resolved_incident_is_409_naming_who_resolved_it_and_when(
    seed: Seed, clock: FrozenClock
) -> None:
    team = await crew(seed)
    carol = await seed.as_user(team.carol)
    created = await open_by_hand(carol, team)
    clock.advance(minutes=3)
    await carol.post(f"/api/v1/incidents/{created['id']}/resolve")
    alice = await seed.as_user(team.alice)
    late = await alice.post(f"/api/v1/incidents/{created['id']}/acknowledge")
    assert late.status_code == 409
    problem = late.json()
    assert problem["type"] == "/problems/stale-transition"
    assert problem["incident_status"] == "resolved"
    assert problem["by"] == team.carol.email
    assert problem["at"] == clock.now().isoformat()


# The list's filters


@dataclass(frozen=True)
class Listed:
    client: httpx.AsyncClient
    payments: Crew
    search: Crew
    # Payments, critical, triggered, opened at 09:00.
    outage: dict[str, Any]
    # Search, warning, acknowledged, opened at 10:00.
    slow: dict[str, Any]
    # Payments, info, resolved, opened at 11:00.
    cert: dict[str, Any]


@pytest.fixture
async def listed(seed: Seed, clock: FrozenClock) -> Listed:
    payments = await crew(seed, "Payments")
    search = await crew(seed, "Search")
    admin = await seed.as_user(await seed.user("Root", admin=True))
    outage = await open_by_hand(admin, payments, "Checkout outage", severity="critical")
    clock.advance(hours=1)
    slow = await open_by_hand(
        admin, search, "Search is slow", severity="warning", description="p99 of 4 s"
    )
    await admin.post(f"/api/v1/incidents/{slow['id']}/acknowledge")
    clock.advance(hours=1)
    cert = await open_by_hand(admin, payments, "Certificate expires in 5 days", severity="info")
    await admin.post(f"/api/v1/incidents/{cert['id']}/resolve")
    return Listed(admin, payments, search, outage, slow, cert)


async def titles(client: httpx.AsyncClient, **query: Any) -> list[str]:
    response = await client.get("/api/v1/incidents", params=query)
    assert response.status_code == 200, response.text
    return [item["title"] for item in response.json()["items"]]


async def test_the_list_is_newest_first(listed: Listed) -> None:
    assert await titles(listed.client) == [
        "Certificate expires in 5 days",
        "Search is slow",
        "Checkout outage",
    ]


async def test_the_list_filters_by_status_given_once_or_repeated(listed: Listed) -> None:
    assert await titles(listed.client, status="acknowledged") == ["Search is slow"]
    assert await titles(listed.client, status=["triggered", "resolved"]) == [
        "Certificate expires in 5 days",
        "Checkout outage",
    ]


async def test_the_list_filters_by_service(listed: Listed) -> None:
    assert await titles(listed.client, service_id=str(listed.search.service.id)) == [
        "Search is slow"
    ]
    assert await titles(listed.client, team_id=str(listed.payments.team.id)) == [
        "Certificate expires in 5 days",
        "Checkout outage",
    ]


async def test_the_list_filters_by_urgency(listed: Listed) -> None:
    assert await titles(listed.client, urgency="high") == ["Checkout outage"]
    assert await titles(listed.client, urgency="low") == [
        "Certificate expires in 5 days",
        "Search is slow",
    ]


async def test_the_list_filters_by_text_in_title_or_description(listed: Listed) -> None:
    assert await titles(listed.client, text="CHECKOUT") == ["Checkout outage"]
    assert await titles(listed.client, text="p99") == ["Search is slow"]
    # Wildcards are text, not patterns.
    assert await titles(listed.client, text="%") == []


async def test_the_list_filters_by_time_range_from_since_inclusive_to_until_exclusive(
    listed: Listed,
) -> None:
    outage_at = listed.outage["created_at"]
    slow_at = listed.slow["created_at"]
    assert await titles(listed.client, since=slow_at) == [
        "Certificate expires in 5 days",
        "Search is slow",
    ]
    assert await titles(listed.client, since=outage_at, until=slow_at) == ["Checkout outage"]


async def test_the_list_pages_with_a_cursor(listed: Listed) -> None:
    first = (await listed.client.get("/api/v1/incidents", params={"limit": 2})).json()
    assert [item["title"] for item in first["items"]] == [
        "Certificate expires in 5 days",
        "Search is slow",
    ]
    rest = await titles(listed.client, limit=2, cursor=first["next_cursor"])
    assert rest == ["Checkout outage"]


# The timeline


async def test_the_timeline_tells_the_incident_story_in_order(
    client: httpx.AsyncClient, seed: Seed, engine: Engine, clock: FrozenClock
) -> None:
    team = await crew(seed)
    integration, key = await seed.integration(
        team.service, grouping_fields=("labels.alertname",), name="Prometheus"
    )
    labels = {"alertname": "DiskFull"}
    await send(client, key, trigger("db-1/disk", labels=labels))
    await send(client, key, trigger("db-1/disk", labels=labels))
    await send(client, key, trigger("db-2/disk", labels=labels))
    await engine.tick()
    clock.advance(minutes=5)
    await engine.tick()
    alice = await seed.as_user(team.alice)
    carol = await seed.as_user(team.carol)
    incident_id = (await alice.get("/api/v1/incidents")).json()["items"][0]["id"]
    clock.advance(minutes=1)
    assert (await alice.post(f"/api/v1/incidents/{incident_id}/acknowledge")).status_code == 200
    await alice.post(f"/api/v1/incidents/{incident_id}/notes", json={"text": "disk cleaned"})
    clock.advance(minutes=1)
    await carol.post(f"/api/v1/incidents/{incident_id}/resolve", json={"note": "fixed"})

    timeline = (await carol.get(f"/api/v1/incidents/{incident_id}/timeline")).json()
    integration_label = f"{integration.name} (generic)"
    story = [(event["action"], event["actor_label"]) for event in timeline]
    assert story == [
        ("incident.triggered", integration_label),
        ("alert.received", integration_label),
        ("alert.deduplicated", integration_label),
        ("alert.grouped", integration_label),
        ("incident.paged", "escalation engine"),
        ("incident.escalated", "escalation engine"),
        ("incident.acknowledged", team.alice.email),
        ("incident.note_added", team.alice.email),
        ("incident.resolved", team.carol.email),
    ]
    details = {event["action"]: event["details"] for event in timeline}
    assert details["alert.deduplicated"]["count"] == 2
    assert details["alert.grouped"]["dedup_key"] == "db-2/disk"
    assert [paged["user_id"] for paged in details["incident.paged"]["paged"]] == [
        str(team.alice.id)
    ]
    assert details["incident.escalated"]["level"] == 2
    assert details["incident.acknowledged"]["via"] == "api"
    assert details["incident.resolved"]["note"] == "fixed"
    times = [datetime.fromisoformat(event["occurred_at"]) for event in timeline]
    assert times == sorted(times)
    assert times[-1] == clock.now()
