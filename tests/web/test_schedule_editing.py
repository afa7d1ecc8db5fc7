"""Schedules fully editable from their page: rename, re-zone, delete (refused while a
policy pages it), and a layer's name, people and shift length, weeks included.

The test clock starts on Monday 2026-01-05 09:00 UTC.
"""

from __future__ import annotations

import re
from typing import NamedTuple

import httpx

from tests.builders import Seed
from tests.web.support import browser, submit, submit_confirmed, text_of
from tocsin.db.models.users import User
from tocsin.domain.access import TeamRole


class Weekly(NamedTuple):
    page: httpx.AsyncClient  # signed in as the team admin
    path: str
    rob: User
    sue: User


async def _weekly(seed: Seed) -> Weekly:
    ada, rob, sue = await seed.user("Ada"), await seed.user("Rob"), await seed.user("Sue")
    team = await seed.team(
        "Database",
        [(ada, TeamRole.ADMIN), (rob, TeamRole.RESPONDER), (sue, TeamRole.RESPONDER)],
    )
    page = await browser(seed, ada)
    created = await submit(
        page,
        "/schedules",
        "/schedules",
        {"team_id": str(team.id), "name": "Primary", "time_zone": "UTC"},
    )
    path = created.headers["location"]
    added = await submit(
        page,
        path,
        f"{path}/layers",
        {
            "name": "Weekly",
            "start": "2026-01-05T09:00",
            "count": "1",
            "unit": "weeks",
            "participant-0": str(rob.id),
            "participant-1": str(sue.id),
        },
    )
    assert added.status_code == 303, added.text
    return Weekly(page, path, rob, sue)


async def test_a_weekly_layer_reads_as_weeks_and_hands_off_after_seven_days(seed: Seed) -> None:
    page, path, _, _ = await _weekly(seed)
    shown = await page.get(path)
    text = text_of(shown)
    assert "Shifts of 1 week," in text
    assert "7 days" not in text
    rows = re.findall(r"<tr>\s*<td>([^<]+)</td>\s*<td>([^<]+)</td>\s*<td>(\w+)</td>", shown.text)
    assert rows[:2] == [
        ("Mon 5 Jan 2026 09:00 UTC", "Mon 12 Jan 2026 09:00 UTC", "Rob"),
        ("Mon 12 Jan 2026 09:00 UTC", "Mon 19 Jan 2026 09:00 UTC", "Sue"),
    ]
    assert '<option value="weeks" selected>weeks</option>' in shown.text


async def test_a_layers_name_people_and_length_are_changed_from_the_page(seed: Seed) -> None:
    page, path, rob, sue = await _weekly(seed)
    shown = await page.get(path)
    layer = re.search(r'action="(/schedules/[0-9a-f-]+/layers/[0-9a-f-]+)"', shown.text)
    assert layer
    saved = await submit(
        page,
        path,
        layer.group(1),
        {
            "name": "Nights",
            "count": "2",
            "unit": "days",
            "participant-0": str(sue.id),
            "participant-1": str(rob.id),
        },
    )
    assert saved.status_code == 303, saved.text
    text = text_of(await page.get(path))
    assert "Nights" in text
    assert "Shifts of 2 days" in text
    assert "In turn: Sue → Rob" in text
    refused = await submit(
        page,
        path,
        layer.group(1),
        {"name": "Nights", "count": "0", "unit": "weeks", "participant-0": str(rob.id)},
    )
    assert refused.status_code == 422
    assert 'role="alert"' in refused.text


async def test_a_schedule_is_renamed_and_rezoned_keeping_its_wall_clock_handoffs(
    seed: Seed,
) -> None:
    page, path, _, _ = await _weekly(seed)
    saved = await submit(
        page,
        path,
        path,
        {"name": "Primary EU", "description": "", "time_zone": "Europe/Berlin"},
    )
    assert saved.status_code == 303, saved.text
    shown = await page.get(path)
    text = text_of(shown)
    assert "Primary EU" in text
    assert "handing off from Mon 5 Jan 2026 09:00 (Europe/Berlin)" in text
    assert 'list="time-zones"' in shown.text
    bad = await submit(
        page,
        path,
        path,
        {"name": "Primary EU", "time_zone": "Mars/Olympus"},
    )
    assert bad.status_code == 422
    assert 'role="alert"' in bad.text


async def test_deleting_a_schedule_asks_first_and_is_refused_while_a_policy_pages_it(
    seed: Seed,
) -> None:
    page, path, _, _ = await _weekly(seed)
    shown = await page.get(path)
    assert 'name="confirm_question" value="Delete the schedule' in shown.text
    schedule_id = path.rsplit("/", 1)[1]
    team_id = re.search(r'href="/teams/([0-9a-f-]+)"', shown.text)
    assert team_id
    policy = await submit(
        page,
        "/escalation-policies/new",
        "/escalation-policies",
        {
            "team_id": team_id.group(1),
            "name": "Uses primary",
            "level-0-delay": "5",
            "level-0-target-0": f"schedule:{schedule_id}",
        },
    )
    assert policy.status_code == 303, policy.text
    refused = await submit_confirmed(page, path, f"{path}/delete")
    assert refused.status_code == 409
    assert "Not deleted: schedule 'Primary' is paged by escalation policies" in text_of(refused)
    assert "Uses primary" in text_of(refused)
    await submit_confirmed(page, policy.headers["location"], f"{policy.headers['location']}/delete")
    deleted = await submit_confirmed(page, path, f"{path}/delete")
    assert deleted.status_code == 303
    assert (await page.get(path)).status_code == 404
