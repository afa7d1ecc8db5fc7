"""Schedule pages: who is on call now, the next 14 days, layers and overrides by form.

The test clock starts on Monday 2026-01-05 09:00 UTC.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import pytest

from tests.builders import Seed
from tests.web.support import browser, submit, submit_confirmed, text_of
from tocsin.clock import FrozenClock
from tocsin.db.models.teams import Team
from tocsin.db.models.users import User
from tocsin.domain.access import TeamRole


@dataclass(frozen=True)
class Crew:
    ada: User  # team admin
    rob: User  # responder, reads Berlin time
    sue: User  # responder
    olive: User  # observer
    team: Team


@pytest.fixture
async def crew(seed: Seed) -> Crew:
    ada, sue, olive = await seed.user("Ada"), await seed.user("Sue"), await seed.user("Olive")
    rob = await seed.user("Rob", time_zone="Europe/Berlin")
    team = await seed.team(
        "Database",
        [
            (ada, TeamRole.ADMIN),
            (rob, TeamRole.RESPONDER),
            (sue, TeamRole.RESPONDER),
            (olive, TeamRole.OBSERVER),
        ],
    )
    return Crew(ada, rob, sue, olive, team)


async def daily_rotation(seed: Seed, crew: Crew) -> str:
    """A UTC schedule handing off daily at 09:00, Rob then Sue, made through the pages."""
    ada = await browser(seed, crew.ada)
    created = await submit(
        ada,
        "/schedules",
        "/schedules",
        {"team_id": str(crew.team.id), "name": "Primary", "time_zone": "UTC"},
    )
    assert created.status_code == 303, created.text
    path = created.headers["location"].split("?")[0]
    added = await submit(
        ada,
        path,
        f"{path}/layers",
        {
            "name": "Weekdays",
            "start": "2026-01-05T09:00",
            "count": "1",
            "unit": "days",
            "participant-0": str(crew.rob.id),
            "participant-1": "",
            "participant-2": str(crew.sue.id),
        },
    )
    assert added.status_code == 303, added.text
    return path


async def test_the_schedule_page_shows_who_is_on_call_and_the_next_14_days(
    seed: Seed, crew: Crew
) -> None:
    path = await daily_rotation(seed, crew)
    page = await (await browser(seed, crew.olive)).get(path)
    text = text_of(page)
    assert "On call now Rob (layer Weekdays)" in text
    assert "In turn: Rob → Sue" in text
    rows = re.findall(r"<tr>\s*<td>([^<]+)</td>\s*<td>([^<]+)</td>\s*<td>(\w+)</td>", page.text)
    assert rows[:3] == [
        ("Mon 5 Jan 2026 09:00 UTC", "Tue 6 Jan 2026 09:00 UTC", "Rob"),
        ("Tue 6 Jan 2026 09:00 UTC", "Wed 7 Jan 2026 09:00 UTC", "Sue"),
        ("Wed 7 Jan 2026 09:00 UTC", "Thu 8 Jan 2026 09:00 UTC", "Rob"),
    ]
    assert len(rows) == 14
    assert page.text.count('<span class="layer" style="width: 7.143%"') == 14
    assert "Add a layer on top" not in page.text  # an observer manages nothing
    assert "Cover a shift" not in page.text
    listing = text_of(await (await browser(seed, crew.olive)).get("/schedules"))
    assert "Primary Database UTC Rob" in listing


async def test_a_schedule_with_nobody_on_call_says_so(seed: Seed, crew: Crew) -> None:
    ada = await browser(seed, crew.ada)
    created = await submit(
        ada,
        "/schedules",
        "/schedules",
        {"team_id": str(crew.team.id), "name": "Empty", "time_zone": "UTC"},
    )
    page = text_of(await ada.get(created.headers["location"]))
    assert "Nobody is on call" in page
    assert "No layers: nobody is ever on call." in page


async def test_a_responder_covers_a_shift_in_their_own_time_and_removes_it(
    seed: Seed, crew: Crew, clock: FrozenClock
) -> None:
    path = await daily_rotation(seed, crew)
    sue = await browser(seed, crew.sue)
    covered = await submit(
        sue,
        path,
        f"{path}/overrides",
        {
            "user_id": str(crew.sue.id),
            "starts_at": "2026-01-05T09:30",
            "ends_at": "2026-01-05T12:00",
            "replaces_user_id": str(crew.rob.id),
            "reason": "Rob at the dentist",
        },
    )
    assert covered.status_code == 303, covered.text
    clock.advance(hours=1)  # 10:00 UTC
    page = await sue.get(path)
    text = text_of(page)
    assert "On call now Sue (override)" in text
    assert "Rob at the dentist" in text
    rob_view = text_of(await (await browser(seed, crew.rob)).get(path))
    assert (
        "Mon 5 Jan 2026 10:30 CET Mon 5 Jan 2026 13:00 CET Sue Rob Rob at the dentist" in rob_view
    )
    home = text_of(await sue.get("/"))
    assert "You are on call now on Primary" in home
    override_id = re.search(rf'action="{path}/overrides/([0-9a-f-]+)/delete"', page.text)
    assert override_id
    removed = await submit_confirmed(sue, path, f"{path}/overrides/{override_id.group(1)}/delete")
    assert removed.status_code == 303
    assert "On call now Rob" in text_of(await sue.get(path))


async def test_overrides_are_refused_with_reasons_and_observers_may_not_cover(
    seed: Seed, crew: Crew
) -> None:
    path = await daily_rotation(seed, crew)
    sue = await browser(seed, crew.sue)
    backwards = await submit(
        sue,
        path,
        f"{path}/overrides",
        {
            "user_id": str(crew.sue.id),
            "starts_at": "2026-01-06T12:00",
            "ends_at": "2026-01-06T10:00",
        },
    )
    assert backwards.status_code == 422
    assert "Not saved: an override ends after it starts." in text_of(backwards)
    olive = await browser(seed, crew.olive)
    refused = await submit(
        olive,
        path,
        f"{path}/overrides",
        {
            "user_id": str(crew.sue.id),
            "starts_at": "2026-01-06T10:00",
            "ends_at": "2026-01-06T12:00",
        },
    )
    assert refused.status_code == 403


async def test_layers_are_for_team_admins_and_can_be_removed(seed: Seed, crew: Crew) -> None:
    path = await daily_rotation(seed, crew)
    rob = await browser(seed, crew.rob)
    refused = await submit(
        rob,
        path,
        f"{path}/layers",
        {"name": "Mine", "start": "2026-01-05T09:00", "count": "1", "unit": "days"},
    )
    assert refused.status_code == 403
    ada = await browser(seed, crew.ada)
    bad = await submit(
        ada,
        path,
        f"{path}/layers",
        {"name": "Odd", "start": "2026-01-05T09:00", "count": "0", "unit": "days"},
    )
    assert bad.status_code == 422
    assert "Not saved: a rotation is 1 to 366 days long." in text_of(bad)
    page = await ada.get(path)
    layer_id = re.search(rf'action="{path}/layers/([0-9a-f-]+)/delete"', page.text)
    assert layer_id
    removed = await submit_confirmed(ada, path, f"{path}/layers/{layer_id.group(1)}/delete")
    assert removed.status_code == 303
    assert "Nobody is on call" in text_of(await ada.get(path))


OFFICE_HOURS = "Only Mon/Tue/Wed/Thu/Fri 09:00\u201317:00"


async def test_a_team_admin_sets_the_hours_a_layer_is_on_call(seed: Seed, crew: Crew) -> None:
    path = await daily_rotation(seed, crew)
    ada = await browser(seed, crew.ada)
    added = await submit(
        ada,
        path,
        f"{path}/layers",
        {
            "name": "Office hours",
            "start": "2026-01-05T09:00",
            "count": "1",
            "unit": "days",
            "participant-0": str(crew.sue.id),
            **{f"day-{day}": "on" for day in range(1, 6)},
            "from": "09:00",
            "until": "17:00",
        },
    )
    assert added.status_code == 303, added.text
    page = await ada.get(path)
    assert OFFICE_HOURS in text_of(page)
    assert "On call now Sue (layer Office hours)" in text_of(page)  # Monday 09:00
    office = re.search(
        rf'Office hours</h3>.*?action="{path}/layers/([0-9a-f-]+)/restriction"', page.text, re.S
    )
    assert office
    office_layer = office.group(1)

    # Half a window is refused, naming what is missing; nothing changes.
    half = await submit(ada, path, f"{path}/layers/{office_layer}/restriction", {"from": "09:00"})
    assert half.status_code == 422
    assert "give both times, or neither for whole days" in text_of(half)
    assert OFFICE_HOURS in text_of(await ada.get(path))

    # Days alone: those whole days.
    weekend = await submit(
        ada, path, f"{path}/layers/{office_layer}/restriction", {"day-6": "on", "day-7": "on"}
    )
    assert weekend.status_code == 303, weekend.text
    assert "Only Sat/Sun all day" in text_of(await ada.get(path))
    assert "On call now Rob (layer Weekdays)" in text_of(await ada.get(path))

    # Nothing ticked: always on call again; a responder may not change it.
    rob = await browser(seed, crew.rob)
    refused = await submit(rob, path, f"{path}/layers/{office_layer}/restriction", {})
    assert refused.status_code == 403
    cleared = await submit(ada, path, f"{path}/layers/{office_layer}/restriction", {})
    assert cleared.status_code == 303
    assert "Only Sat/Sun" not in text_of(await ada.get(path))


async def test_a_responder_swaps_a_shift_and_removing_half_removes_both(
    seed: Seed, crew: Crew
) -> None:
    path = await daily_rotation(seed, crew)  # Rob Mon, Sue Tue, Rob Wed, ...
    rob = await browser(seed, crew.rob)
    page = await rob.get(path)
    wednesday = f"{crew.rob.id}|2026-01-07T09:00:00+00:00|2026-01-08T09:00:00+00:00"
    tuesday = f"{crew.sue.id}|2026-01-06T09:00:00+00:00|2026-01-07T09:00:00+00:00"
    assert f'<option value="{wednesday}">' in page.text
    assert f'<option value="{tuesday}">' in page.text

    # A shift that is not the person's is refused: Rob claims Sue's Thursday.
    claimed = f"{crew.rob.id}|2026-01-08T09:00:00+00:00|2026-01-09T09:00:00+00:00"
    forged = await submit(rob, path, f"{path}/swaps", {"mine": claimed, "theirs": tuesday})
    assert forged.status_code == 422, forged.text
    assert "is not on call for the whole of that shift" in text_of(forged)
    broken = await submit(rob, path, f"{path}/swaps", {"mine": "yesterday", "theirs": tuesday})
    assert broken.status_code == 422
    assert "choose a shift from the list" in text_of(broken)

    swapped = await submit(
        rob, path, f"{path}/swaps", {"mine": wednesday, "theirs": tuesday, "reason": "dentist"}
    )
    assert swapped.status_code == 303, swapped.text
    page = await (await browser(seed, crew.olive)).get(path)
    rows = re.findall(r"<tr>\s*<td>([^<]+)</td>\s*<td>([^<]+)</td>\s*<td>(\w+)</td>", page.text)
    assert rows[:3] == [
        ("Mon 5 Jan 2026 09:00 UTC", "Tue 6 Jan 2026 09:00 UTC", "Rob"),
        ("Tue 6 Jan 2026 09:00 UTC", "Wed 7 Jan 2026 09:00 UTC", "Rob"),
        ("Wed 7 Jan 2026 09:00 UTC", "Thu 8 Jan 2026 09:00 UTC", "Sue"),
    ]
    assert "Swap shifts" not in page.text  # an observer has no shifts to swap

    own_page = (await rob.get(path)).text
    removal = re.search(rf'action="({path}/overrides/[0-9a-f-]+/delete)"', own_page)
    assert removal
    removed = await submit_confirmed(rob, path, removal.group(1))
    assert removed.status_code == 303
    assert "No current or upcoming overrides." in text_of(await rob.get(path))
