"""Escalation policies over HTTP: levels written as a whole, targets that must exist,
field paths in every refusal, deletes refused while services use a policy, snapshots of
incidents in flight left alone, and who may manage a policy."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from tests.builders import Seed
from tocsin.actions.actors import system_actor
from tocsin.actions.escalation import policies
from tocsin.actions.identity import users
from tocsin.actions.oncall import schedules
from tocsin.db.models.incidents import Incident
from tocsin.db.models.schedules import Schedule
from tocsin.db.models.teams import Team
from tocsin.db.models.users import User
from tocsin.domain.access import Scope, TeamRole


async def _setup(seed: Seed) -> tuple[httpx.AsyncClient, Team, User, Schedule]:
    admin = await seed.user("Ada")
    alice = await seed.user("Alice")
    team = await seed.team("Payments", [(admin, TeamRole.ADMIN), (alice, TeamRole.RESPONDER)])
    async with seed.database.transaction() as session:
        schedule = await schedules.create_schedule(
            session,
            actor=system_actor("test"),
            team_id=team.id,
            name="Primary",
            time_zone="UTC",
            now=seed.clock.now(),
        )
    return await seed.as_user(admin), team, alice, schedule


def _target(kind: str, target_id: object) -> dict[str, str]:
    return {"kind": kind, "id": str(target_id)}


async def test_create_read_replace_and_patch_a_policy(seed: Seed) -> None:
    client, team, alice, schedule = await _setup(seed)
    body = {
        "team_id": str(team.id),
        "name": "Payments default",
        "repeat_count": 2,
        "levels": [
            {
                "delay_minutes": 5,
                "targets": [_target("schedule", schedule.id), _target("user", alice.id)],
            },
            {"delay_minutes": 15, "targets": [_target("team", team.id)]},
        ],
    }
    created = await client.post("/api/v1/escalation-policies", json=body)
    assert created.status_code == 201, created.text
    policy = created.json()
    assert policy["repeat_count"] == 2
    assert [level["position"] for level in policy["levels"]] == [1, 2]
    # Targets come back in the order they were written.
    assert policy["levels"][0]["targets"] == body["levels"][0]["targets"]  # type: ignore[index]
    assert (await client.get(f"/api/v1/escalation-policies/{policy['id']}")).json() == policy

    replaced = await client.put(
        f"/api/v1/escalation-policies/{policy['id']}",
        json={
            "name": "Payments default",
            "levels": [{"delay_minutes": 10, "targets": [_target("user", alice.id)]}],
        },
    )
    assert replaced.status_code == 200, replaced.text
    assert replaced.json()["repeat_count"] == 0  # PUT replaces everything it has
    assert replaced.json()["description"] == ""
    assert [level["delay_minutes"] for level in replaced.json()["levels"]] == [10]

    patched = await client.patch(
        f"/api/v1/escalation-policies/{policy['id']}", json={"description": "the usual"}
    )
    assert patched.json()["description"] == "the usual"
    assert patched.json()["levels"] == replaced.json()["levels"]

    listed = await client.get("/api/v1/escalation-policies", params={"team_id": str(team.id)})
    assert [item["id"] for item in listed.json()["items"]] == [policy["id"]]
    assert listed.json()["items"][0]["levels"] == replaced.json()["levels"]
    other = await client.get("/api/v1/escalation-policies", params={"team_id": str(uuid.uuid4())})
    assert other.json()["items"] == []


async def test_every_invalid_level_names_its_field_path(seed: Seed) -> None:
    client, team, alice, schedule = await _setup(seed)
    gone = await seed.user("Gone")
    async with seed.database.transaction() as session:
        await users.set_active(
            session, actor=system_actor("test"), user_id=gone.id, active=False, now=seed.clock.now()
        )
    ok_level = {"delay_minutes": 5, "targets": [_target("user", alice.id)]}

    def policy(*levels: dict[str, Any], **fields: Any) -> dict[str, Any]:
        return {"team_id": str(team.id), "name": "P", "levels": list(levels), **fields}

    cases: list[tuple[dict[str, Any], str]] = [
        (policy(), "levels"),
        (policy(*[ok_level] * 21), "levels"),
        (policy(ok_level, repeat_count=10), "repeat_count"),
        (policy(ok_level, name=" "), "name"),
        (
            policy(ok_level, {"delay_minutes": 0, "targets": ok_level["targets"]}),
            "levels[1].delay_minutes",
        ),
        (
            policy(ok_level, {"delay_minutes": 1441, "targets": ok_level["targets"]}),
            "levels[1].delay_minutes",
        ),
        (policy(ok_level, {"delay_minutes": 5, "targets": []}), "levels[1].targets"),
        (
            policy(ok_level, {"delay_minutes": 5, "targets": [_target("user", alice.id)] * 21}),
            "levels[1].targets",
        ),
        (
            policy({"delay_minutes": 5, "targets": [_target("robot", alice.id)]}),
            "levels[0].targets[0].kind",
        ),
        (
            policy(ok_level, {"delay_minutes": 5, "targets": [_target("user", uuid.uuid4())]}),
            "levels[1].targets[0].id",
        ),
        (
            policy(
                {
                    "delay_minutes": 5,
                    "targets": [_target("team", team.id), _target("schedule", uuid.uuid4())],
                }
            ),
            "levels[0].targets[1].id",
        ),
        (
            policy({"delay_minutes": 5, "targets": [_target("team", uuid.uuid4())]}),
            "levels[0].targets[0].id",
        ),
        (
            policy(ok_level, {"delay_minutes": 5, "targets": [_target("user", gone.id)]}),
            "levels[1].targets[0].id",
        ),
        (
            policy(
                {
                    "delay_minutes": 5,
                    "targets": [_target("schedule", schedule.id), _target("schedule", schedule.id)],
                }
            ),
            "levels[0].targets[1]",
        ),
        (
            # A schedule's id given as a user: the kind decides where it is looked for.
            policy({"delay_minutes": 5, "targets": [_target("user", schedule.id)]}),
            "levels[0].targets[0].id",
        ),
        (policy(ok_level, team_id=str(uuid.uuid4())), "team_id"),
    ]
    for body, field in cases:
        response = await client.post("/api/v1/escalation-policies", json=body)
        assert response.status_code == 422, (field, response.text)
        assert response.json()["field"] == field, (field, response.json())
    deactivated = await client.post(
        "/api/v1/escalation-policies",
        json=policy({"delay_minutes": 5, "targets": [_target("user", gone.id)]}),
    )
    assert "deactivated" in deactivated.json()["detail"]


async def test_policy_names_are_unique_per_team_whatever_the_case(seed: Seed) -> None:
    client, team, alice, _ = await _setup(seed)
    levels = [{"delay_minutes": 5, "targets": [_target("user", alice.id)]}]
    first = await client.post(
        "/api/v1/escalation-policies",
        json={"team_id": str(team.id), "name": "Default", "levels": levels},
    )
    assert first.status_code == 201
    again = await client.post(
        "/api/v1/escalation-policies",
        json={"team_id": str(team.id), "name": "DEFAULT", "levels": levels},
    )
    assert again.status_code == 409
    assert again.json()["field"] == "name"
    other_team = await seed.team("Search")
    elsewhere = await seed.policy(other_team, levels=[(5, [alice])], name="Default")
    assert elsewhere.name == "Default"


async def test_deleting_a_policy_in_use_names_the_services(seed: Seed) -> None:
    client, team, alice, _ = await _setup(seed)
    policy = await seed.policy(team, levels=[(5, [alice])])
    await seed.service(team, policy=policy, name="Checkout")
    await seed.service(team, policy=policy, name="Billing")
    refused = await client.delete(f"/api/v1/escalation-policies/{policy.id}")
    assert refused.status_code == 409
    assert refused.json()["used_by"] == {"services": ["Billing", "Checkout"]}
    assert "'Billing', 'Checkout'" in refused.json()["detail"]

    unused = await seed.policy(team, levels=[(5, [alice])])
    assert (await client.delete(f"/api/v1/escalation-policies/{unused.id}")).status_code == 204
    assert (await client.get(f"/api/v1/escalation-policies/{unused.id}")).status_code == 404


async def test_editing_a_policy_leaves_incidents_in_flight_alone(
    seed: Seed, client: httpx.AsyncClient
) -> None:
    admin, team, alice, schedule = await _setup(seed)
    policy = await seed.policy(team, levels=[(5, [alice])])
    service = await seed.service(team, policy=policy)
    _, key = await seed.integration(service)
    assert (await client.post(f"/ingest/{key}", json={"title": "down"})).status_code == 202
    # Freeze the snapshot as the engine does when the incident first escalates.
    async with seed.database.transaction() as session:
        frozen = (await policies.load_snapshot(session, policy.id)).as_json()
        await session.execute(
            sa.update(Incident)
            .where(Incident.service_id == service.id)
            .values(escalation_snapshot=frozen)
        )
        before = await _escalation_columns(session, service.id)
    changed = await admin.put(
        f"/api/v1/escalation-policies/{policy.id}",
        json={
            "name": "Changed",
            "levels": [{"delay_minutes": 30, "targets": [_target("schedule", schedule.id)]}],
        },
    )
    assert changed.status_code == 200, changed.text
    async with seed.database.transaction() as session:
        after = await _escalation_columns(session, service.id)
        fresh = await policies.load_snapshot(session, policy.id)
    assert after == before
    assert frozen["levels"][0] == {
        "delay_minutes": 5,
        "targets": [{"kind": "user", "id": str(alice.id)}],
    }
    # New incidents get the edited policy.
    assert fresh.name == "Changed"
    assert fresh.levels[0].delay_minutes == 30


async def _escalation_columns(session: AsyncSession, service_id: uuid.UUID) -> list[Any]:
    rows = await session.execute(
        sa.select(
            Incident.escalation_policy_id,
            Incident.escalation_snapshot,
            Incident.escalation_level,
            Incident.escalation_token,
            Incident.next_escalation_at,
        ).where(Incident.service_id == service_id)
    )
    found = [tuple(row) for row in rows]
    assert len(found) == 1
    return found


async def test_who_may_manage_a_policy(seed: Seed) -> None:
    admin, team, alice, _ = await _setup(seed)
    outsider = await seed.user("Out")
    await seed.team("Search", [(outsider, TeamRole.ADMIN)])
    body = {
        "team_id": str(team.id),
        "name": "P",
        "levels": [{"delay_minutes": 5, "targets": [_target("user", alice.id)]}],
    }
    policy = await seed.policy(team, levels=[(5, [alice])])
    for user in (alice, outsider):  # a responder of the team; an admin of another team
        client = await seed.as_user(user)
        assert (await client.get(f"/api/v1/escalation-policies/{policy.id}")).status_code == 200
        assert (await client.post("/api/v1/escalation-policies", json=body)).status_code == 403
        patch = await client.patch(
            f"/api/v1/escalation-policies/{policy.id}", json={"repeat_count": 1}
        )
        assert patch.status_code == 403
        delete = await client.delete(f"/api/v1/escalation-policies/{policy.id}")
        assert delete.status_code == 403
    reader = await seed.as_key(Scope.POLICIES_READ)
    assert (await reader.get("/api/v1/escalation-policies")).status_code == 200
    refused = await reader.post("/api/v1/escalation-policies", json=body)
    assert refused.json()["scope"] == "policies:write"
    writer = await seed.as_key(Scope.POLICIES_WRITE)
    assert (await writer.post("/api/v1/escalation-policies", json=body)).status_code == 201
    assert (
        await admin.patch(f"/api/v1/escalation-policies/{policy.id}", json={"repeat_count": 1})
    ).status_code == 200


async def test_policy_changes_are_audited_with_the_levels(seed: Seed) -> None:
    client, team, alice, _ = await _setup(seed)
    policy = await seed.policy(team, levels=[(5, [alice])])
    await client.patch(
        f"/api/v1/escalation-policies/{policy.id}",
        json={"levels": [{"delay_minutes": 7, "targets": [_target("team", team.id)]}]},
    )
    events = await client.get(
        "/api/v1/audit-events",
        params={"team_id": str(team.id), "resource_type": "escalation_policy"},
    )
    items = events.json()["items"]
    assert [item["action"] for item in items] == ["policy.updated", "policy.created"]
    assert items[0]["details"]["changed"] == ["levels"]
    assert items[0]["details"]["levels"] == [
        {"delay_minutes": 7, "targets": [{"kind": "team", "id": str(team.id)}]}
    ]
