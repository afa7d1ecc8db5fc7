"""Services over HTTP: CRUD, filters, validation naming fields, refusals naming what still
uses a service, who may manage one, and the audit trail."""

from __future__ import annotations

import uuid
from typing import Any

import httpx

from tests.builders import Seed
from tocsin.actions.actors import system_actor
from tocsin.actions.identity import teams
from tocsin.db.models.teams import Team
from tocsin.domain.access import Scope, TeamRole


async def _team_admin(seed: Seed, name: str = "Payments") -> tuple[httpx.AsyncClient, Team]:
    admin = await seed.user(f"{name} Admin")
    team = await seed.team(name, [(admin, TeamRole.ADMIN)])
    return await seed.as_user(admin), team


async def _create(client: httpx.AsyncClient, **fields: Any) -> dict[str, Any]:
    response = await client.post("/api/v1/services", json=fields)
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


async def test_team_admin_creates_reads_updates_and_deletes_a_service(seed: Seed) -> None:
    client, team = await _team_admin(seed)
    policy = await seed.policy(team, levels=[(5, [team])])
    created = await _create(
        client,
        team_id=str(team.id),
        name="  Payments   API ",
        description="card payments",
        escalation_policy_id=str(policy.id),
        ack_timeout_minutes=30,
    )
    assert created["name"] == "Payments API"
    assert created["urgency_rule"] == "severity"
    assert created["escalation_policy_id"] == str(policy.id)
    assert created["auto_resolve_hours"] is None

    fetched = await client.get(f"/api/v1/services/{created['id']}")
    assert fetched.json() == created

    patched = await client.patch(
        f"/api/v1/services/{created['id']}",
        json={"urgency_rule": "high", "auto_resolve_hours": 24, "ack_timeout_minutes": None},
    )
    assert patched.status_code == 200, patched.text
    assert patched.json()["urgency_rule"] == "high"
    assert patched.json()["auto_resolve_hours"] == 24
    assert patched.json()["ack_timeout_minutes"] is None
    assert patched.json()["escalation_policy_id"] == str(policy.id)  # not sent: unchanged

    cleared = await client.patch(
        f"/api/v1/services/{created['id']}", json={"escalation_policy_id": None}
    )
    assert cleared.json()["escalation_policy_id"] is None

    deleted = await client.delete(f"/api/v1/services/{created['id']}")
    assert deleted.status_code == 204
    assert (await client.get(f"/api/v1/services/{created['id']}")).status_code == 404


async def test_list_filters_by_team_and_search_and_paginates(seed: Seed) -> None:
    _, payments = await _team_admin(seed, "Payments")
    search_team = await seed.team("Search")
    for name in ("Checkout API", "Checkout Worker", "Refunds"):
        await seed.service(payments, name=name)
    await seed.service(search_team, name="Indexer 100%_done")
    reader = await seed.as_key(Scope.SERVICES_READ)

    mine = (await reader.get("/api/v1/services", params={"team_id": str(payments.id)})).json()
    assert sorted(item["name"] for item in mine["items"]) == [
        "Checkout API",
        "Checkout Worker",
        "Refunds",
    ]
    found = (await reader.get("/api/v1/services", params={"search": "CHECKOUT"})).json()
    assert sorted(item["name"] for item in found["items"]) == ["Checkout API", "Checkout Worker"]
    # LIKE wildcards in the search are literal characters.
    literal = (await reader.get("/api/v1/services", params={"search": "100%_"})).json()
    assert [item["name"] for item in literal["items"]] == ["Indexer 100%_done"]
    percent = (await reader.get("/api/v1/services", params={"search": "%"})).json()
    assert [item["name"] for item in percent["items"]] == ["Indexer 100%_done"]

    seen: list[str] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"limit": 3, **({"cursor": cursor} if cursor else {})}
        page = (await reader.get("/api/v1/services", params=params)).json()
        seen += [item["id"] for item in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert len(seen) == len(set(seen)) == 4


async def test_names_are_unique_whatever_the_case(seed: Seed) -> None:
    client, team = await _team_admin(seed)
    await _create(client, team_id=str(team.id), name="Payments API")
    duplicate = await client.post(
        "/api/v1/services", json={"team_id": str(team.id), "name": "payments api"}
    )
    assert duplicate.status_code == 409
    assert duplicate.json()["type"] == "/problems/already-exists"
    assert duplicate.json()["field"] == "name"
    other = await _create(client, team_id=str(team.id), name="Other")
    renamed = await client.patch(f"/api/v1/services/{other['id']}", json={"name": "PAYMENTS API"})
    assert renamed.status_code == 409
    assert renamed.json()["field"] == "name"


async def test_every_invalid_value_names_its_field(seed: Seed) -> None:
    client, team = await _team_admin(seed)
    base = {"team_id": str(team.id), "name": "Svc"}
    cases: list[tuple[dict[str, Any], str]] = [
        ({**base, "name": "   "}, "name"),
        ({**base, "name": "x" * 101}, "name"),
        ({**base, "urgency_rule": "urgent"}, "urgency_rule"),
        ({**base, "ack_timeout_minutes": 0}, "ack_timeout_minutes"),
        ({**base, "ack_timeout_minutes": 10081}, "ack_timeout_minutes"),
        ({**base, "auto_resolve_hours": 8761}, "auto_resolve_hours"),
        ({**base, "escalation_policy_id": str(uuid.uuid4())}, "escalation_policy_id"),
        ({**base, "team_id": str(uuid.uuid4())}, "team_id"),
        ({**base, "owner": "me"}, "owner"),
        ({"name": "Svc"}, "team_id"),
    ]
    for body, field in cases:
        response = await client.post("/api/v1/services", json=body)
        assert response.status_code == 422, (body, response.text)
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json()["field"] == field, body
    service = await _create(client, **base)
    patches: list[tuple[dict[str, Any], str]] = [
        ({"escalation_policy_id": str(uuid.uuid4())}, "escalation_policy_id"),
        ({"auto_resolve_hours": 0}, "auto_resolve_hours"),
        ({"name": "\t"}, "name"),
    ]
    for body, field in patches:
        response = await client.patch(f"/api/v1/services/{service['id']}", json=body)
        assert response.status_code == 422, (body, response.text)
        assert response.json()["field"] == field, body


async def test_deleting_a_service_in_use_is_refused_naming_the_integrations(seed: Seed) -> None:
    client, team = await _team_admin(seed)
    target = await seed.service(team, name="Checkout")
    other = await seed.service(team, name="Other")
    await seed.integration(target, kind="alertmanager", name="Prometheus")
    await seed.integration(
        other, name="Global", routes=[(target, [("labels.team", "equals", "checkout")])]
    )
    response = await client.delete(f"/api/v1/services/{target.id}")
    assert response.status_code == 409
    problem = response.json()
    assert problem["type"] == "/problems/conflict"
    assert "'Prometheus'" in problem["detail"]
    assert "routing rules of 'Global'" in problem["detail"]
    assert problem["used_by"] == {"integrations": ["Prometheus"], "routing_rules_of": ["Global"]}

    fallback = await client.delete(f"/api/v1/services/{other.id}")
    assert fallback.status_code == 409
    assert fallback.json()["used_by"] == {"integrations": ["Global"]}
    assert (await client.get(f"/api/v1/services/{target.id}")).status_code == 200


async def test_a_service_with_incidents_is_kept_as_history(
    seed: Seed, client: httpx.AsyncClient
) -> None:
    admin, team = await _team_admin(seed)
    service = await seed.service(team, name="Checkout")
    integration, key = await seed.integration(service, kind="generic")
    alert = await client.post(f"/ingest/{key}", json={"title": "checkout is down"})
    assert alert.status_code == 202, alert.text
    assert (await admin.delete(f"/api/v1/integrations/{integration.id}")).status_code == 204
    response = await admin.delete(f"/api/v1/services/{service.id}")
    assert response.status_code == 409
    assert response.json()["used_by"] == {"incidents": 1}
    assert "1 incident(s), which are kept as history" in response.json()["detail"]


async def test_who_may_manage_a_service(seed: Seed) -> None:
    admin_client, team = await _team_admin(seed, "Payments")
    responder, observer = await seed.user("Rae"), await seed.user("Obi")
    outsider = await seed.user("Out")
    await seed.team("Search", [(outsider, TeamRole.ADMIN)])
    async with seed.database.transaction() as session:
        for user, role in ((responder, TeamRole.RESPONDER), (observer, TeamRole.OBSERVER)):
            await teams.add_member(
                session,
                actor=system_actor("test"),
                team_id=team.id,
                user_id=user.id,
                role=role,
                now=seed.clock.now(),
            )
    service = await seed.service(team, name="Checkout")
    body = {"team_id": str(team.id), "name": "New"}
    for user in (responder, observer, outsider):
        client = await seed.as_user(user)
        assert (await client.get(f"/api/v1/services/{service.id}")).status_code == 200
        assert (await client.post("/api/v1/services", json=body)).status_code == 403
        patch = await client.patch(f"/api/v1/services/{service.id}", json={"description": "x"})
        assert patch.status_code == 403
        assert (await client.delete(f"/api/v1/services/{service.id}")).status_code == 403

    reader = await seed.as_key(Scope.SERVICES_READ)
    refused = await reader.post("/api/v1/services", json=body)
    assert refused.status_code == 403
    assert refused.json()["type"] == "/problems/missing-scope"
    assert refused.json()["scope"] == "services:write"
    writer = await seed.as_key(Scope.SERVICES_WRITE)
    no_read = await writer.get("/api/v1/services")
    assert no_read.status_code == 403
    assert (await writer.post("/api/v1/services", json=body)).status_code == 201
    assert (await admin_client.delete(f"/api/v1/services/{service.id}")).status_code == 204


async def test_moving_a_service_takes_admin_rights_in_both_teams(seed: Seed) -> None:
    client, payments = await _team_admin(seed, "Payments")
    search = await seed.team("Search")
    service = await seed.service(payments, name="Checkout")
    refused = await client.patch(f"/api/v1/services/{service.id}", json={"team_id": str(search.id)})
    assert refused.status_code == 403
    platform = await seed.as_user(await seed.user("Pam", admin=True))
    moved = await platform.patch(f"/api/v1/services/{service.id}", json={"team_id": str(search.id)})
    assert moved.json()["team_id"] == str(search.id)
    # The former team's admin no longer manages it.
    after = await client.patch(f"/api/v1/services/{service.id}", json={"description": "x"})
    assert after.status_code == 403


async def test_every_change_is_audited_for_the_owning_team(seed: Seed) -> None:
    client, team = await _team_admin(seed)
    created = await _create(client, team_id=str(team.id), name="Checkout")
    await client.patch(f"/api/v1/services/{created['id']}", json={"description": "shop"})
    await client.patch(f"/api/v1/services/{created['id']}", json={"description": "shop"})
    await client.delete(f"/api/v1/services/{created['id']}")
    events = await client.get(
        "/api/v1/audit-events",
        params={"team_id": str(team.id), "resource_type": "service"},
    )
    assert events.status_code == 200, events.text
    items = events.json()["items"]
    assert [item["action"] for item in items] == [
        "service.deleted",
        "service.updated",
        "service.created",
    ]
    assert items[1]["details"] == {"changed": ["description"]}
    assert {item["resource_id"] for item in items} == {created["id"]}
