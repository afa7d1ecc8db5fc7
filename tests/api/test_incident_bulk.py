"""Acknowledging and resolving several incidents in one request: each incident as its own
request would be, the refused ones answered with the problem that request would get."""

from __future__ import annotations

import uuid
from typing import Any

import httpx

from tests.builders import Seed
from tocsin.domain.access import Scope, TeamRole


async def open_by_hand(client: httpx.AsyncClient, service_id: uuid.UUID, title: str) -> str:
    response = await client.post(
        "/api/v1/incidents", json={"service_id": str(service_id), "title": title}
    )
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return str(created["id"])


async def test_each_incident_is_done_or_answered_with_its_own_problem(seed: Seed) -> None:
    alice, carl, bob = await seed.user("Alice"), await seed.user("Carl"), await seed.user("Bob")
    payments = await seed.team(
        "Payments", [(alice, TeamRole.RESPONDER), (carl, TeamRole.RESPONDER)]
    )
    search = await seed.team("Search", [(bob, TeamRole.RESPONDER)])
    payments_api = await seed.service(payments, await seed.policy(payments, [(5, [alice])]))
    search_api = await seed.service(search, await seed.policy(search, [(5, [bob])]))
    as_alice, as_carl = await seed.as_user(alice), await seed.as_user(carl)
    mine = await open_by_hand(as_alice, payments_api.id, "Checkout down")
    taken = await open_by_hand(as_alice, payments_api.id, "Disk full")
    theirs = await open_by_hand(await seed.as_user(bob), search_api.id, "Search slow")
    resolved_first = await as_carl.post(f"/api/v1/incidents/{taken}/resolve")
    assert resolved_first.status_code == 200
    gone = str(uuid.uuid4())

    response = await as_alice.post(
        "/api/v1/incidents/acknowledge",
        json={"incident_ids": [mine, taken, theirs, gone, mine]},
    )
    assert response.status_code == 200, response.text
    body = response.json()
    [done] = body["done"]
    assert done["id"] == mine
    assert done["status"] == "acknowledged"
    assert done["acknowledged_by"] == alice.email
    problems = {item["incident_id"]: item["problem"] for item in body["failed"]}
    assert set(problems) == {taken, theirs, gone}
    assert problems[taken]["type"] == "/problems/stale-transition"
    assert problems[taken]["status"] == 409
    assert problems[taken]["incident_status"] == "resolved"
    assert problems[taken]["by"] == carl.email
    assert problems[theirs]["type"] == "/problems/forbidden"
    assert problems[theirs]["status"] == 403
    assert problems[gone]["type"] == "/problems/not-found"
    assert problems[gone]["status"] == 404
    # Nothing but Alice's own incident changed.
    search_now = (await as_alice.get(f"/api/v1/incidents/{theirs}")).json()
    assert search_now["status"] == "triggered"

    resolved = await as_alice.post("/api/v1/incidents/resolve", json={"incident_ids": [mine]})
    assert resolved.status_code == 200
    assert [item["status"] for item in resolved.json()["done"]] == ["resolved"]
    assert resolved.json()["failed"] == []


async def test_a_key_without_the_write_scope_gets_a_403_per_incident(seed: Seed) -> None:
    alice = await seed.user("Alice")
    team = await seed.team("Payments", [(alice, TeamRole.RESPONDER)])
    service = await seed.service(team, await seed.policy(team, [(5, [alice])]))
    incident = await open_by_hand(await seed.as_user(alice), service.id, "Checkout down")
    reader = await seed.as_key(Scope.INCIDENTS_READ)
    response = await reader.post("/api/v1/incidents/acknowledge", json={"incident_ids": [incident]})
    assert response.status_code == 200
    assert response.json()["done"] == []
    [failed] = response.json()["failed"]
    assert failed["problem"]["status"] == 403
    writer = await seed.as_key(Scope.INCIDENTS_WRITE)
    allowed = await writer.post("/api/v1/incidents/acknowledge", json={"incident_ids": [incident]})
    assert [item["id"] for item in allowed.json()["done"]] == [incident]


async def test_a_request_naming_no_incident_or_too_many_is_a_422_naming_the_field(
    seed: Seed,
) -> None:
    client = await seed.as_user(await seed.user("Alice"))
    bodies: list[dict[str, list[str]]] = [
        {"incident_ids": []},
        {"incident_ids": [str(uuid.uuid4()) for _ in range(101)]},
        {"incident_ids": ["not-an-id"]},
        {},
    ]
    for body in bodies:
        refused = await client.post("/api/v1/incidents/resolve", json=body)
        assert refused.status_code == 422, body
        assert refused.headers["content-type"] == "application/problem+json"
        assert refused.json()["field"].startswith("incident_ids"), refused.json()
