"""The first-run checklist on the home page: each step ticked from the data as it is done
(whatever did it: pages, API or CLI), each linking to its form, gone once all are done."""

from __future__ import annotations

import re

import httpx
import pytest
from fastapi import FastAPI

from tests.builders import Seed
from tests.notify.conftest import sending_engine
from tests.web.support import browser, submit, text_of
from tests.web.test_incident_pages import alert
from tocsin.clock import FrozenClock
from tocsin.config import Settings
from tocsin.db.session import Database
from tocsin.domain.access import TeamRole
from tocsin.engine.loop import Engine
from tocsin.notify import notifier as notify


@pytest.fixture
def engine(app: FastAPI, settings: Settings, database: Database, clock: FrozenClock) -> Engine:
    return sending_engine(app, database, clock, notify.build(settings, database, clock))


def steps(home: httpx.Response) -> list[tuple[str, str, str]]:
    """(state, link, title) of every step shown, in order; state is "done" or "todo"."""
    section = re.search(r'<details class="card checklist".*?</details>', home.text, re.S)
    if section is None:
        return []
    return [
        (state, href, title)
        for state, href, title in re.findall(
            r'<li class="(done|todo)[^"]*">.*?<a href="([^"]+)">([^<]+)</a>', section.group(0), re.S
        )
    ]


async def test_an_admin_is_guided_from_an_empty_installation_to_a_page_acknowledged(
    client: httpx.AsyncClient, seed: Seed, engine: Engine
) -> None:
    ada = await seed.user("Ada", admin=True)
    pages = await browser(seed, ada)
    first = await pages.get("/")
    assert "0 of 8 done" in text_of(first)
    assert steps(first) == [
        ("todo", "/teams/new", "Create a team"),
        ("todo", "/teams", "Add people"),
        ("todo", "/schedules/new", "Make a schedule"),
        ("todo", "/escalation-policies/new", "Make an escalation policy"),
        ("todo", "/services/new", "Add a service"),
        ("todo", "/integrations/new", "Connect an integration"),
        ("todo", "/integrations", "Send a test alert"),
        ("todo", "/incidents", "See it page you, and acknowledge it"),
    ]
    assert '<li class="todo next">' in first.text  # the first step to do stands out
    # Every link leads to a page that works (the /new links land on the list's form).
    for _, href, _ in steps(first):
        opened = await pages.get(href, follow_redirects=True)
        assert opened.status_code == 200, href

    # A team with a member who can be paged: two steps at once, and "Add people" now
    # leads to that team's page.
    team = await seed.team("Payments", [(ada, TeamRole.ADMIN)])
    after_team = steps(await pages.get("/"))
    assert after_team[:2] == [
        ("done", "/teams/new", "Create a team"),
        ("done", f"/teams/{team.id}", "Add people"),
    ]
    api = await seed.as_user(ada)
    schedule = await api.post(
        "/api/v1/schedules", json={"team_id": str(team.id), "name": "Primary", "time_zone": "UTC"}
    )
    assert schedule.status_code == 201, schedule.text
    empty_schedule = steps(await pages.get("/"))
    assert empty_schedule[2][0] == "todo"  # a schedule nobody is on pages nobody
    layer = await api.post(
        f"/api/v1/schedules/{schedule.json()['id']}/layers",
        json={
            "name": "Week",
            "start": "2026-01-05T09:00",
            "rotation": {"kind": "weekly"},
            "participants": [str(ada.id)],
        },
    )
    assert layer.status_code == 201, layer.text
    policy = await seed.policy(team, [(5, [ada])], name="Payments on call")
    service = await seed.service(team, policy, name="payments-api")
    integration, key = await seed.integration(service)
    halfway = await pages.get("/")
    assert "6 of 8 done" in text_of(halfway)
    assert steps(halfway)[6] == ("todo", f"/integrations/{integration.id}", "Send a test alert")

    incident_id = await alert(seed, client, key, "Test alert from tocsin", "test")
    await engine.tick()  # pages Ada
    assert "7 of 8 done" in text_of(await pages.get("/"))
    acknowledged = await submit(
        pages, f"/incidents/{incident_id}", f"/incidents/{incident_id}/acknowledge"
    )
    assert acknowledged.status_code == 303
    done = await pages.get("/")
    assert steps(done) == []  # all done: the checklist is gone
    assert "Set up tocsin" not in done.text


async def test_only_those_who_set_up_see_the_checklist(seed: Seed) -> None:
    rita = await seed.user("Rita")
    tess = await seed.user("Tess")
    await seed.team("Payments", [(rita, TeamRole.RESPONDER), (tess, TeamRole.ADMIN)])
    assert steps(await (await browser(seed, rita)).get("/")) == []
    # A team admin sets up their team's schedules, policies and services.
    assert len(steps(await (await browser(seed, tess)).get("/"))) == 8


async def test_being_paged_is_personal_someone_else_acknowledging_does_not_tick_it(
    client: httpx.AsyncClient, seed: Seed, engine: Engine
) -> None:
    ada = await seed.user("Ada", admin=True)
    bob = await seed.user("Bob")
    team = await seed.team("Payments", [(ada, TeamRole.ADMIN), (bob, TeamRole.RESPONDER)])
    policy = await seed.policy(team, [(5, [ada, bob])])
    _, key = await seed.integration(await seed.service(team, policy))
    incident_id = await alert(seed, client, key, "Disk full", "disk")
    await engine.tick()
    bobs = await browser(seed, bob)
    await submit(bobs, f"/incidents/{incident_id}", f"/incidents/{incident_id}/acknowledge")
    last = steps(await (await browser(seed, ada)).get("/"))[-1]
    assert last == ("todo", "/incidents", "See it page you, and acknowledge it")
