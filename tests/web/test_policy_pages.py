"""Escalation policy pages: ordered levels and targets through a form without JavaScript."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass

import pytest

from tests.builders import Seed
from tests.web.support import browser, submit, submit_confirmed, text_of
from tocsin.actions.escalation import policies
from tocsin.db.models.teams import Team
from tocsin.db.models.users import User
from tocsin.domain.access import TeamRole
from tocsin.domain.escalation import LevelSnapshot, Target, TargetKind


@dataclass(frozen=True)
class Crew:
    ada: User  # team admin
    rob: User
    sue: User
    team: Team


@pytest.fixture
async def crew(seed: Seed) -> Crew:
    ada, rob, sue = await seed.user("Ada"), await seed.user("Rob"), await seed.user("Sue")
    team = await seed.team(
        "Network",
        [(ada, TeamRole.ADMIN), (rob, TeamRole.RESPONDER), (sue, TeamRole.RESPONDER)],
    )
    return Crew(ada, rob, sue, team)


async def levels_of(seed: Seed, policy_id: uuid.UUID) -> tuple[LevelSnapshot, ...]:
    async with seed.database.transaction() as session:
        return (await policies.load(session, policy_id)).levels


def user(person: User) -> Target:
    return Target(TargetKind.USER, person.id)


async def test_a_team_admin_creates_a_policy_with_ordered_levels_and_targets(
    seed: Seed, crew: Crew
) -> None:
    ada = await browser(seed, crew.ada)
    form = await ada.get("/escalation-policies/new")
    assert 'name="level-0-target-0"' in form.text
    assert 'name="level-1-target-0"' not in form.text  # one empty level to start with
    created = await submit(
        ada,
        "/escalation-policies/new",
        "/escalation-policies",
        {
            "team_id": str(crew.team.id),
            "name": "Network on call",
            "repeat_count": "2",
            "op": "save",
            # Level rows as typed: the second row is ordered first.
            "level-0-order": "2",
            "level-0-delay": "15",
            "level-0-target-0": f"team:{crew.team.id}",
            "level-1-order": "1",
            "level-1-delay": "5",
            "level-1-target-0": f"user:{crew.sue.id}",
            "level-1-target-1": "",
            "level-1-target-2": f"user:{crew.rob.id}",
            "level-2-order": "3",
            "level-2-delay": "30",
            "level-2-target-0": "",  # the spare empty level is left out
        },
    )
    assert created.status_code == 303, created.text
    policy_id = uuid.UUID(created.headers["location"].split("/")[2].split("?")[0])
    assert await levels_of(seed, policy_id) == (
        LevelSnapshot(5, (user(crew.sue), user(crew.rob))),
        LevelSnapshot(15, (Target(TargetKind.TEAM, crew.team.id),)),
    )
    detail = text_of(await ada.get(created.headers["location"]))
    assert "Page Sue (person) , Rob (person) ; wait 5 min" in detail
    assert "Page Network (every responder of this team) ; wait 15 min" in detail
    assert "2 more time(s)" in detail


async def test_more_rows_keeps_what_was_typed_and_adds_empty_slots(seed: Seed, crew: Crew) -> None:
    ada = await browser(seed, crew.ada)
    more = await submit(
        ada,
        "/escalation-policies/new",
        "/escalation-policies",
        {
            "team_id": str(crew.team.id),
            "name": "Draft",
            "op": "more",
            "level-0-delay": "7",
            "level-0-target-0": f"user:{crew.rob.id}",
        },
    )
    assert more.status_code == 200
    assert 'value="Draft"' in more.text
    assert 'name="level-0-delay" type="number" min="1" max="1440" value="7"' in more.text
    assert f'<option value="user:{crew.rob.id}" selected>' in more.text
    assert 'name="level-0-target-2"' in more.text  # two more slots
    assert 'name="level-1-target-1"' in more.text  # and a new level with two slots
    assert "Created" not in more.text


async def test_editing_reorders_and_removes_levels(seed: Seed, crew: Crew) -> None:
    policy = await seed.policy(crew.team, [(5, [crew.rob]), (10, [crew.sue]), (20, [crew.ada])])
    ada = await browser(seed, crew.ada)
    edit = await ada.get(f"/escalation-policies/{policy.id}/edit")
    assert f'<option value="user:{crew.sue.id}" selected>' in edit.text
    saved = await submit(
        ada,
        f"/escalation-policies/{policy.id}/edit",
        f"/escalation-policies/{policy.id}",
        {
            "name": policy.name,
            "op": "save",
            "level-0-order": "2",
            "level-0-delay": "5",
            "level-0-target-0": f"user:{crew.rob.id}",
            "level-1-order": "1",
            "level-1-delay": "10",
            "level-1-target-0": f"user:{crew.sue.id}",
            "level-2-order": "3",
            "level-2-delay": "20",
            "level-2-target-0": f"user:{crew.ada.id}",
            "level-2-remove": "on",
        },
    )
    assert saved.status_code == 303, saved.text
    assert await levels_of(seed, policy.id) == (
        LevelSnapshot(10, (user(crew.sue),)),
        LevelSnapshot(5, (user(crew.rob),)),
    )


async def test_a_level_without_a_wait_is_refused_naming_the_level(seed: Seed, crew: Crew) -> None:
    ada = await browser(seed, crew.ada)
    refused = await submit(
        ada,
        "/escalation-policies/new",
        "/escalation-policies",
        {
            "team_id": str(crew.team.id),
            "name": "Broken",
            "op": "save",
            "level-0-delay": "",
            "level-0-target-0": f"user:{crew.rob.id}",
        },
    )
    assert refused.status_code == 422
    assert "Not saved: level 1 needs its wait in whole minutes." in text_of(refused)
    assert f'<option value="user:{crew.rob.id}" selected>' in refused.text  # kept for a retry
    forged = await submit(
        ada,
        "/escalation-policies/new",
        "/escalation-policies",
        {
            "team_id": str(crew.team.id),
            "name": "Forged",
            "op": "save",
            "level-0-delay": "5",
            "level-0-target-0": f"user:{uuid.uuid4()}",
        },
    )
    assert forged.status_code == 422
    assert "Not saved:" in text_of(forged)


async def test_responders_read_policies_but_cannot_change_them(seed: Seed, crew: Crew) -> None:
    policy = await seed.policy(crew.team, [(5, [crew.rob])], name="Primary")
    rob = await browser(seed, crew.rob)
    listing = await rob.get("/escalation-policies")
    assert "Primary" in listing.text
    assert "New escalation policy" not in listing.text
    detail = await rob.get(f"/escalation-policies/{policy.id}")
    assert "Page Rob" in text_of(detail)
    assert "Edit this policy" not in detail.text
    refused = await submit(
        rob,
        f"/escalation-policies/{policy.id}",
        f"/escalation-policies/{policy.id}",
        {
            "name": "Mine",
            "op": "save",
            "level-0-delay": "1",
            "level-0-target-0": f"user:{crew.rob.id}",
        },
    )
    assert refused.status_code == 403


async def test_a_policy_in_use_is_not_deleted(seed: Seed, crew: Crew) -> None:
    used = await seed.policy(crew.team, [(5, [crew.rob])], name="Used")
    await seed.service(crew.team, used, name="router")
    ada = await browser(seed, crew.ada)
    refused = await submit_confirmed(
        ada, f"/escalation-policies/{used.id}", f"/escalation-policies/{used.id}/delete"
    )
    assert refused.status_code == 409
    assert re.search(r"Not deleted: .*router", text_of(refused))
    assert (await ada.get(f"/escalation-policies/{used.id}")).status_code == 200
    unused = await seed.policy(crew.team, [(5, [crew.rob])], name="Unused")
    deleted = await submit_confirmed(
        ada, f"/escalation-policies/{unused.id}", f"/escalation-policies/{unused.id}/delete"
    )
    assert deleted.headers["location"] == "/escalation-policies"
    assert "Escalation policy deleted." in text_of(await ada.get("/escalation-policies"))
    assert (await ada.get(f"/escalation-policies/{unused.id}")).status_code == 404
