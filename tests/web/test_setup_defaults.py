"""Set-up without dead ends: the defaults a new team and service get, forms that keep what
was typed when refused, and messages that say which thing is wrong."""

from __future__ import annotations

import re
import uuid

from tests.builders import Seed
from tests.web.support import browser, submit, text_of
from tocsin.actions.actors import system_actor
from tocsin.actions.identity import teams
from tocsin.domain.access import TeamRole


async def test_the_creator_of_a_team_becomes_its_admin_member(seed: Seed) -> None:
    ada = await seed.user("Ada", admin=True)
    page = await browser(seed, ada)
    created = await submit(page, "/teams", "/teams", {"name": "Payments"})
    assert created.status_code == 303
    shown = await page.get(created.headers["location"])
    assert "You are its admin" in text_of(shown)
    assert re.search(r"<td>Ada</td><td>[^<]+</td>\s*<td>\s*<form", shown.text)
    async with seed.database.transaction() as session:
        team_id = uuid.UUID(created.headers["location"].rsplit("/", 1)[1])
        members = await teams.list_members(session, actor=system_actor("t"), team_id=team_id)
    assert [(user.id, membership.role) for membership, user in members] == [
        (ada.id, TeamRole.ADMIN)
    ]


async def test_a_team_made_through_the_api_by_a_person_has_them_as_admin(seed: Seed) -> None:
    ada = await seed.user("Ada", admin=True)
    api = await seed.as_user(ada)
    team = (await api.post("/api/v1/teams", json={"name": "Databases"})).json()
    members = (await api.get(f"/api/v1/teams/{team['id']}/members")).json()
    assert [(item["user_id"], item["role"]) for item in members] == [(str(ada.id), "admin")]


async def test_add_member_offers_responder_first(seed: Seed) -> None:
    ada = await seed.user("Ada")
    await seed.user("Bea")
    team = await seed.team("Web", [(ada, TeamRole.ADMIN)])
    page = await (await browser(seed, ada)).get(f"/teams/{team.id}")
    adding = page.text[page.text.index("Add a member") :]
    assert '<option value="responder" selected>' in adding


async def test_a_new_service_takes_the_teams_only_policy(seed: Seed) -> None:
    ada = await seed.user("Ada")
    team = await seed.team("Web", [(ada, TeamRole.ADMIN)])
    policy = await seed.policy(team, [(5, [ada])], name="Web on call")
    page = await browser(seed, ada)
    form = await page.get("/services")
    assert '<option value="team" selected>' in form.text
    created = await submit(
        page, "/services", "/services", {"team_id": str(team.id), "name": "frontend"}
    )
    # No escalation_policy_id sent is treated like the form's default choice ("team").
    assert created.status_code == 303
    created = await submit(
        page,
        "/services",
        "/services",
        {"team_id": str(team.id), "name": "backend", "escalation_policy_id": "team"},
    )
    shown = text_of(await page.get(created.headers["location"]))
    assert "Its incidents page through its escalation policy" in shown
    assert "Web on call" in shown
    none = await submit(
        page,
        "/services",
        "/services",
        {"team_id": str(team.id), "name": "batch", "escalation_policy_id": ""},
    )
    assert "pages nobody until you choose" in text_of(await page.get(none.headers["location"]))
    api = await seed.as_user(ada)
    defaulted = await api.post("/api/v1/services", json={"team_id": str(team.id), "name": "a"})
    assert defaulted.json()["escalation_policy_id"] == str(policy.id)
    explicit = await api.post(
        "/api/v1/services",
        json={"team_id": str(team.id), "name": "b", "escalation_policy_id": None},
    )
    assert explicit.json()["escalation_policy_id"] is None


async def test_a_team_with_two_policies_gives_a_new_service_none(seed: Seed) -> None:
    ada = await seed.user("Ada")
    team = await seed.team("Web", [(ada, TeamRole.ADMIN)])
    await seed.policy(team, [(5, [ada])], name="Day")
    await seed.policy(team, [(5, [ada])], name="Night")
    api = await seed.as_user(ada)
    created = await api.post("/api/v1/services", json={"team_id": str(team.id), "name": "a"})
    assert created.status_code == 201
    assert created.json()["escalation_policy_id"] is None


async def test_refused_create_forms_keep_what_was_typed(seed: Seed) -> None:
    ada = await seed.user("Ada", admin=True)
    team = await seed.team("Web", [(ada, TeamRole.ADMIN)])
    await seed.service(team, name="frontend")
    page = await browser(seed, ada)

    service = await submit(
        page,
        "/services",
        "/services",
        {
            "team_id": str(team.id),
            "name": "frontend",
            "description": "The shop",
            "escalation_policy_id": "",
            "urgency_rule": "high",
            "ack_timeout_minutes": "45",
        },
    )
    assert service.status_code == 422
    assert 'role="alert"' in service.text
    assert 'value="The shop"' in service.text
    assert 'value="45"' in service.text
    assert '<option value="high" selected>' in service.text

    user = await submit(
        page,
        "/admin/users",
        "/admin/users",
        {
            "email": ada.email,
            "name": "Twin",
            "time_zone": "Europe/Paris",
            "phone": "+33612345678",
            "is_platform_admin": "on",
        },
    )
    assert user.status_code == 422
    assert '<option value="Europe/Paris" selected>' in user.text
    assert 'value="+33612345678"' in user.text
    assert 'name="is_platform_admin" checked' in user.text

    schedule = await submit(
        page,
        "/schedules",
        "/schedules",
        {"team_id": str(team.id), "name": "Primary", "time_zone": "Mars/Olympus"},
    )
    assert schedule.status_code == 422
    assert 'value="Primary"' in schedule.text
    assert 'value="Mars/Olympus"' in schedule.text

    frontend = await seed.service(team, name="api")
    integration = await submit(
        page,
        "/integrations/new",
        "/integrations",
        {
            "service_id": str(frontend.id),
            "name": "Prom",
            "kind": "alertmanager",
            "grouping_fields": "labels.cluster",
            "grouping_window_minutes": "0",
        },
    )
    assert integration.status_code == 422
    assert 'value="Prom"' in integration.text
    assert 'value="labels.cluster"' in integration.text
    assert '<option value="alertmanager" selected>' in integration.text


async def test_a_policy_level_without_a_target_is_named(seed: Seed) -> None:
    ada = await seed.user("Ada")
    team = await seed.team("Web", [(ada, TeamRole.ADMIN)])
    page = await browser(seed, ada)
    nothing = await submit(
        page,
        "/escalation-policies/new",
        "/escalation-policies",
        {"team_id": str(team.id), "name": "Empty", "level-0-delay": "5", "level-0-target-0": ""},
    )
    assert nothing.status_code == 422
    assert "level 1 has no target" in text_of(nothing)
    assert 'value="Empty"' in nothing.text
    gap = await submit(
        page,
        "/escalation-policies/new",
        "/escalation-policies",
        {
            "team_id": str(team.id),
            "name": "Gap",
            "level-0-delay": "5",
            "level-0-target-0": "",
            "level-1-delay": "10",
            "level-1-target-0": f"user:{ada.id}",
        },
    )
    assert gap.status_code == 422
    assert "level 1 has no target" in text_of(gap)
    api = await seed.as_user(ada)
    refused = await api.post(
        "/api/v1/escalation-policies",
        json={
            "team_id": str(team.id),
            "name": "API",
            "levels": [
                {"delay_minutes": 5, "targets": [{"kind": "user", "id": str(ada.id)}]},
                {"delay_minutes": 5, "targets": []},
            ],
        },
    )
    assert refused.status_code == 422
    assert "levels[1].targets" in refused.text


async def test_a_duplicate_policy_name_says_an_escalation_policy(seed: Seed) -> None:
    ada = await seed.user("Ada")
    team = await seed.team("Web", [(ada, TeamRole.ADMIN)])
    await seed.policy(team, [(5, [ada])], name="Web on call")
    page = await browser(seed, ada)
    refused = await submit(
        page,
        "/escalation-policies/new",
        "/escalation-policies",
        {
            "team_id": str(team.id),
            "name": "Web on call",
            "level-0-delay": "5",
            "level-0-target-0": f"user:{ada.id}",
        },
    )
    assert refused.status_code == 422
    text = text_of(refused)
    assert "an escalation policy with name" in text
    assert "a escalation" not in text
