"""Service pages: the list, one service with everything about it, settings, maintenance."""

from __future__ import annotations

import re
from dataclasses import dataclass

import httpx
import pytest

from tests.builders import Seed
from tests.web.support import browser, submit, submit_confirmed, text_of
from tocsin.db.models.escalation_policies import EscalationPolicy
from tocsin.db.models.teams import Team
from tocsin.db.models.users import User
from tocsin.domain.access import TeamRole


@dataclass(frozen=True)
class Crew:
    ada: User  # team admin, reads Berlin time
    rob: User  # responder
    team: Team
    policy: EscalationPolicy


@pytest.fixture
async def crew(seed: Seed) -> Crew:
    ada = await seed.user("Ada", time_zone="Europe/Berlin")
    rob = await seed.user("Rob")
    team = await seed.team("Storage", [(ada, TeamRole.ADMIN), (rob, TeamRole.RESPONDER)])
    policy = await seed.policy(team, [(5, [rob])], name="Storage on call")
    return Crew(ada, rob, team, policy)


async def test_a_team_admin_creates_a_service_from_the_list(seed: Seed, crew: Crew) -> None:
    ada = await browser(seed, crew.ada)
    created = await submit(
        ada,
        "/services",
        "/services",
        {
            "team_id": str(crew.team.id),
            "name": "object-store",
            "description": "S3-compatible storage",
            "escalation_policy_id": str(crew.policy.id),
            "urgency_rule": "high",
            "ack_timeout_minutes": "30",
            "auto_resolve_hours": "",
        },
    )
    assert created.status_code == 303, created.text
    page = await ada.get(created.headers["location"])
    text = text_of(page)
    assert "Created service object-store." in text
    assert "Storage on call" in text
    assert "always high" in text
    assert "30 min" in text
    listing = text_of(await ada.get("/services"))
    assert "object-store Storage Storage on call high" in listing


async def test_refused_input_is_shown_beside_the_form_and_nothing_is_created(
    seed: Seed, crew: Crew
) -> None:
    ada = await browser(seed, crew.ada)
    refused = await submit(
        ada,
        "/services",
        "/services",
        {"team_id": str(crew.team.id), "name": "db", "ack_timeout_minutes": "0"},
    )
    assert refused.status_code == 422
    assert "Not saved:" in text_of(refused)
    assert "New service" in refused.text  # the form, to try again
    assert ">db</a>" not in (await ada.get("/services")).text


async def test_only_team_admins_get_the_forms_and_others_are_refused(
    seed: Seed, crew: Crew
) -> None:
    service = await seed.service(crew.team, crew.policy, name="block-store")
    rob = await browser(seed, crew.rob)
    listing = await rob.get("/services")
    assert "New service" not in listing.text
    page = await rob.get(f"/services/{service.id}")
    assert page.status_code == 200
    assert "Save service" not in page.text
    assert "Add window" not in page.text
    refused = await submit(rob, f"/services/{service.id}", f"/services/{service.id}", {"name": "x"})
    assert refused.status_code == 403
    window = await submit(
        rob,
        f"/services/{service.id}",
        f"/services/{service.id}/maintenance",
        {"starts_at": "2026-01-06T02:00", "ends_at": "2026-01-06T04:00"},
    )
    assert window.status_code == 403


async def test_the_service_page_shows_incidents_integrations_without_keys_and_changes(
    client: httpx.AsyncClient, seed: Seed, crew: Crew
) -> None:
    service = await seed.service(crew.team, crew.policy, name="block-store")
    integration, key = await seed.integration(service, "pagerduty_events_v2", name="Pipeline")
    trigger = {
        "routing_key": key,
        "event_action": "trigger",
        "payload": {"summary": "Volume degraded", "source": "vol-1", "severity": "error"},
    }
    assert (await client.post("/v2/enqueue", json=trigger)).status_code == 202
    change = {
        "routing_key": key,
        "payload": {"summary": "Deployed v2.3", "source": "ci", "timestamp": "2026-01-05T08:30Z"},
        "links": [{"href": "https://ci.example.com/b/7", "text": "build 7"}],
    }
    assert (await client.post("/v2/change/enqueue", json=change)).status_code == 202
    page = await (await browser(seed, crew.rob)).get(f"/services/{service.id}")
    text = text_of(page)
    assert "Volume degraded" in text
    assert "Pipeline pagerduty_events_v2" in text
    assert f"POST https://tocsin.test/ingest/{integration.key_prefix}…" in text
    assert key not in page.text  # never the key
    assert "Deployed v2.3" in text
    assert 'href="https://ci.example.com/b/7"' in page.text


async def test_settings_are_saved_and_clearing_a_field_clears_it(seed: Seed, crew: Crew) -> None:
    service = await seed.service(crew.team, crew.policy, name="block-store", ack_timeout_minutes=10)
    ada = await browser(seed, crew.ada)
    path = f"/services/{service.id}"
    saved = await submit(
        ada,
        path,
        path,
        {
            "name": "block-storage",
            "description": "volumes",
            "escalation_policy_id": "",
            "urgency_rule": "severity",
            "ack_timeout_minutes": "",
            "auto_resolve_hours": "24",
        },
    )
    assert saved.status_code == 303
    text = text_of(await ada.get(path))
    assert "block-storage" in text
    assert "none: incidents open but page nobody" in text
    assert "Acknowledgement timeout none" in text
    assert "after 24 h" in text


async def test_a_service_with_incidents_is_not_deleted_and_the_page_says_why(
    client: httpx.AsyncClient, seed: Seed, crew: Crew
) -> None:
    kept = await seed.service(crew.team, crew.policy, name="kept")
    _, key = await seed.integration(kept)
    await client.post(f"/ingest/{key}", json={"title": "boom", "dedup_key": "boom"})
    ada = await browser(seed, crew.ada)
    refused = await submit_confirmed(ada, f"/services/{kept.id}", f"/services/{kept.id}/delete")
    assert refused.status_code == 409
    assert "Not deleted:" in text_of(refused)
    spare = await seed.service(crew.team, name="spare")
    deleted = await submit_confirmed(ada, f"/services/{spare.id}", f"/services/{spare.id}/delete")
    assert deleted.status_code == 303
    assert (await ada.get(f"/services/{spare.id}")).status_code == 404


async def test_maintenance_windows_are_added_in_local_time_and_removed(
    seed: Seed, crew: Crew
) -> None:
    service = await seed.service(crew.team, crew.policy, name="block-store")
    ada = await browser(seed, crew.ada)
    path = f"/services/{service.id}"
    added = await submit(
        ada,
        path,
        f"{path}/maintenance",
        {
            "starts_at": "2026-01-06T02:00",
            "ends_at": "2026-01-06T04:00",
            "time_zone": "Europe/Berlin",
            "description": "kernel upgrade",
        },
    )
    assert added.status_code == 303, added.text
    page = await ada.get(path)
    text = text_of(page)
    assert "Tue 6 Jan 2026 02:00 CET Tue 6 Jan 2026 04:00 CET once kernel upgrade" in text
    rob_view = text_of(await (await browser(seed, crew.rob)).get(path))
    assert "Tue 6 Jan 2026 01:00 UTC Tue 6 Jan 2026 03:00 UTC" in rob_view  # Rob reads UTC
    weekly = await submit(
        ada,
        path,
        f"{path}/maintenance",
        {
            "starts_at": "2026-01-11T02:00",
            "ends_at": "2026-01-11T03:00",
            "time_zone": "Europe/Berlin",
            "recurrence": "FREQ=WEEKLY;BYDAY=SU",
        },
    )
    assert weekly.status_code == 303
    assert "FREQ=WEEKLY;BYDAY=SU (Europe/Berlin)" in text_of(await ada.get(path))
    window_ids = re.findall(rf'action="{path}/maintenance/([0-9a-f-]+)/delete"', page.text)
    assert len(window_ids) == 1
    removed = await submit_confirmed(ada, path, f"{path}/maintenance/{window_ids[0]}/delete")
    assert removed.status_code == 303
    assert "kernel upgrade" not in (await ada.get(path)).text


async def test_a_window_that_ends_before_it_starts_is_refused_with_a_message(
    seed: Seed, crew: Crew
) -> None:
    service = await seed.service(crew.team, crew.policy, name="block-store")
    ada = await browser(seed, crew.ada)
    path = f"/services/{service.id}"
    refused = await submit(
        ada, path, f"{path}/maintenance", {"starts_at": "2026-01-06T04:00", "ends_at": "later"}
    )
    assert refused.status_code == 422
    assert "Not saved: give a date and time" in text_of(refused)
    backwards = await submit(
        ada,
        path,
        f"{path}/maintenance",
        {"starts_at": "2026-01-06T04:00", "ends_at": "2026-01-06T02:00"},
    )
    assert backwards.status_code == 422
    assert "a window must end after it starts" in text_of(backwards)
