from __future__ import annotations

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import DBAPIError

from tests.builders import Seed
from tocsin.clock import FrozenClock
from tocsin.db.models.audit import AuditEvent
from tocsin.db.session import Database
from tocsin.domain.access import Scope, TeamRole


async def test_every_api_change_is_audited_with_actor_ip_and_user_agent(
    seed: Seed, clock: FrozenClock
) -> None:
    admin_user = await seed.user("Auditor", admin=True)
    admin = await seed.as_user(admin_user)
    created = await admin.post(
        "/api/v1/teams", json={"name": "Databases"}, headers={"user-agent": "audit-test/1.0"}
    )
    team_id = created.json()["id"]
    bob = await seed.user("Bob")
    await admin.post(
        f"/api/v1/teams/{team_id}/members", json={"user_id": str(bob.id), "role": "responder"}
    )
    await admin.patch(f"/api/v1/teams/{team_id}/members/{bob.id}", json={"role": "admin"})
    await admin.delete(f"/api/v1/teams/{team_id}/members/{bob.id}")

    events = (await admin.get("/api/v1/audit-events", params={"team_id": team_id})).json()["items"]
    assert [event["action"] for event in events] == [
        "team.member_removed",
        "team.member_role_changed",
        "team.member_added",
        "team.member_added",  # the creator, made the team's first admin
        "team.created",
    ]
    assert events[-2]["details"] == {"user_id": str(admin_user.id), "role": "admin"}
    created_event = events[-1]
    assert created_event["actor_kind"] == "user"
    assert created_event["actor_id"] == str(admin_user.id)
    assert created_event["actor_label"] == admin_user.email
    assert created_event["ip_address"] == "203.0.113.7"
    assert created_event["user_agent"] == "audit-test/1.0"
    assert created_event["occurred_at"].startswith(clock.now().date().isoformat())
    assert events[1]["details"] == {"user_id": str(bob.id), "from": "responder", "to": "admin"}


async def test_audit_filters_and_pagination(seed: Seed, clock: FrozenClock) -> None:
    reader = await seed.as_key(Scope.AUDIT_READ)
    first = await seed.user("First")
    clock.advance(hours=1)
    await seed.team("T1", [(first, TeamRole.RESPONDER)])
    clock.advance(hours=1)
    await seed.user("Later")
    by_action = (
        await reader.get("/api/v1/audit-events", params={"action": "user.created"})
    ).json()["items"]
    assert {event["resource_id"] for event in by_action} >= {str(first.id)}
    by_resource = (
        await reader.get(
            "/api/v1/audit-events", params={"resource_type": "user", "resource_id": str(first.id)}
        )
    ).json()["items"]
    assert [event["action"] for event in by_resource] == ["user.created"]
    window = (
        await reader.get(
            "/api/v1/audit-events",
            params={"since": (clock.now().replace(minute=0)).isoformat(), "action": "user.created"},
        )
    ).json()["items"]
    assert len(window) == 1
    paged = await reader.get("/api/v1/audit-events", params={"limit": 1})
    assert len(paged.json()["items"]) == 1
    assert paged.json()["next_cursor"]
    naive = await reader.get("/api/v1/audit-events", params={"since": "2026-01-01T00:00:00"})
    assert naive.status_code == 422
    assert naive.json()["field"] == "since"


async def test_the_audit_trail_cannot_be_rewritten(seed: Seed, database: Database) -> None:
    await seed.user("Immutable")
    with pytest.raises(DBAPIError, match="append-only"):
        async with database.transaction() as session:
            await session.execute(sa.update(AuditEvent).values(action="tampered"))
    with pytest.raises(DBAPIError, match="append-only"):
        async with database.transaction() as session:
            await session.execute(sa.delete(AuditEvent))
