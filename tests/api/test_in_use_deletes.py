"""Deleting a team or a schedule the alert pipeline still uses is a 409 naming what uses
it, never a foreign-key 500."""

from __future__ import annotations

import httpx

from tests.builders import Seed
from tocsin.actions.actors import system_actor
from tocsin.actions.oncall import schedules
from tocsin.db.models.schedules import Schedule
from tocsin.db.models.teams import Team


async def _schedule(seed: Seed, team: Team, name: str = "Primary") -> Schedule:
    async with seed.database.transaction() as session:
        return await schedules.create_schedule(
            session,
            actor=system_actor("test"),
            team_id=team.id,
            name=name,
            time_zone="UTC",
            now=seed.clock.now(),
        )


async def _platform_admin(seed: Seed) -> httpx.AsyncClient:
    return await seed.as_user(await seed.user("Pam", admin=True))


async def test_a_team_owning_services_and_policies_is_not_deleted(seed: Seed) -> None:
    admin = await _platform_admin(seed)
    team = await seed.team("Payments")
    policy = await seed.policy(team, levels=[(5, [team])], name="Default")
    await seed.service(team, policy=policy, name="Checkout")
    response = await admin.delete(f"/api/v1/teams/{team.id}")
    assert response.status_code == 409
    assert response.json()["used_by"] == {
        "services": ["Checkout"],
        "escalation_policies": ["Default"],
        "paged_by_policies": ["Default"],
    }
    assert "'Checkout'" in response.json()["detail"]
    assert (await admin.get(f"/api/v1/teams/{team.id}")).status_code == 200


async def test_a_team_paged_by_another_teams_policy_is_not_deleted(seed: Seed) -> None:
    admin = await _platform_admin(seed)
    dba = await seed.team("DBA")
    await seed.policy(await seed.team("Payments"), levels=[(5, [dba])], name="Call the DBAs")
    response = await admin.delete(f"/api/v1/teams/{dba.id}")
    assert response.status_code == 409
    assert response.json()["used_by"] == {"paged_by_policies": ["Call the DBAs"]}
    unused = await seed.team("Unused")
    assert (await admin.delete(f"/api/v1/teams/{unused.id}")).status_code == 204


async def test_a_schedule_a_policy_pages_is_not_deleted(seed: Seed) -> None:
    admin = await _platform_admin(seed)
    team = await seed.team("Payments")
    schedule = await _schedule(seed, team)
    await seed.policy(team, levels=[(5, [schedule]), (10, [schedule])], name="Default")
    response = await admin.delete(f"/api/v1/schedules/{schedule.id}")
    assert response.status_code == 409
    assert response.json()["used_by"] == {"escalation_policies": ["Default"]}
    assert "take it out of their levels first" in response.json()["detail"]
    spare = await _schedule(seed, team, "Spare")
    assert (await admin.delete(f"/api/v1/schedules/{spare.id}")).status_code == 204
