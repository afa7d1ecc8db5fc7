"""Maintenance windows over HTTP, and what the engine reads of them.

The test clock starts on Monday 2026-01-05 09:00 UTC.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import httpx

from tests.builders import Seed
from tocsin.actions.services import maintenance as maintenance_actions
from tocsin.db.models.services import Service
from tocsin.domain import maintenance
from tocsin.domain.access import Scope, TeamRole


async def _setup(seed: Seed) -> tuple[httpx.AsyncClient, Service]:
    admin = await seed.user("Ada")
    team = await seed.team("Payments", [(admin, TeamRole.ADMIN)])
    return await seed.as_user(admin), await seed.service(team, name="Checkout")


def _url(service: Service) -> str:
    return f"/api/v1/services/{service.id}/maintenance-windows"


async def test_one_off_and_recurring_windows_feed_the_engine(seed: Seed) -> None:
    client, service = await _setup(seed)
    one_off = await client.post(
        _url(service),
        json={
            "starts_at": "2026-01-05T10:00:00+01:00",
            "ends_at": "2026-01-05T12:00:00+01:00",
            "description": "database upgrade",
        },
    )
    assert one_off.status_code == 201, one_off.text
    assert one_off.json()["starts_at"] == "2026-01-05T09:00:00Z"
    assert one_off.json()["recurrence"] is None
    weekly = await client.post(
        _url(service),
        json={
            "starts_at": "2026-01-11T02:00:00+01:00",
            "ends_at": "2026-01-11T04:00:00+01:00",
            "recurrence": "FREQ=WEEKLY;BYDAY=SU",
            "time_zone": "Europe/Paris",
        },
    )
    assert weekly.status_code == 201, weekly.text
    listed = (await client.get(_url(service))).json()
    assert [item["id"] for item in listed] == [one_off.json()["id"], weekly.json()["id"]]

    async with seed.database.transaction() as session:
        windows = await maintenance_actions.maintenance_windows_for(session, service.id)
    assert windows[1] == maintenance.Window(
        starts_at=datetime(2026, 1, 11, 1, tzinfo=UTC),
        ends_at=datetime(2026, 1, 11, 3, tzinfo=UTC),
        recurrence="FREQ=WEEKLY;BYDAY=SU",
        time_zone="Europe/Paris",
    )
    assert maintenance.active_until(windows, seed.clock.now()) == datetime(
        2026, 1, 5, 11, tzinfo=UTC
    )
    # Six weeks on, after the switch to summer time: still 02:00 to 04:00 in Paris.
    summer = datetime(2026, 4, 5, 0, 30, tzinfo=UTC)
    assert maintenance.active_until(windows, summer) == datetime(2026, 4, 5, 2, tzinfo=UTC)

    deleted = await client.delete(f"{_url(service)}/{one_off.json()['id']}")
    assert deleted.status_code == 204
    async with seed.database.transaction() as session:
        remaining = await maintenance_actions.maintenance_windows_for(session, service.id)
    assert maintenance.active_until(remaining, seed.clock.now()) is None


async def test_invalid_windows_name_their_field(seed: Seed) -> None:
    client, service = await _setup(seed)
    start, end = "2026-01-06T09:00:00Z", "2026-01-06T10:00:00Z"
    cases: list[tuple[dict[str, Any], str]] = [
        ({"starts_at": end, "ends_at": start}, "ends_at"),
        ({"starts_at": "2026-01-01T09:00:00Z", "ends_at": "2026-01-02T09:00:00Z"}, "ends_at"),
        ({"starts_at": "2026-01-06T09:00:00", "ends_at": end}, "starts_at"),
        ({"starts_at": "1767690000", "ends_at": end}, "starts_at"),
        ({"starts_at": start, "ends_at": end, "time_zone": "Mars/Olympus"}, "time_zone"),
        ({"starts_at": start, "ends_at": end, "time_zone": "EST"}, "time_zone"),
        ({"starts_at": start, "ends_at": end, "recurrence": "every day"}, "recurrence"),
        ({"starts_at": start, "ends_at": end, "recurrence": "FREQ=HOURLY"}, "recurrence"),
        ({"starts_at": start, "ends_at": end, "recurrence": "FREQ=DAILY;BYHOUR=3"}, "recurrence"),
        (
            {"starts_at": start, "ends_at": end, "recurrence": "FREQ=MONTHLY;BYMONTHDAY=30"},
            "recurrence",
        ),
        (
            {"starts_at": start, "ends_at": end, "recurrence": "FREQ=DAILY;UNTIL=20250101T000000Z"},
            "recurrence",
        ),
        (
            {"starts_at": start, "ends_at": "2026-01-14T09:00:00Z", "recurrence": "FREQ=WEEKLY"},
            "ends_at",
        ),
        ({"starts_at": start, "ends_at": end, "description": "x" * 501}, "description"),
        ({"starts_at": start}, "ends_at"),
    ]
    for body, field in cases:
        response = await client.post(_url(service), json=body)
        assert response.status_code == 422, (body, response.text)
        assert response.json()["field"] == field, (body, response.json())
    assert (await client.get(_url(service))).json() == []


async def test_windows_of_unknown_services_and_unknown_windows_are_404(seed: Seed) -> None:
    client, service = await _setup(seed)
    missing = await client.get(f"/api/v1/services/{uuid.uuid4()}/maintenance-windows")
    assert missing.status_code == 404
    gone = await client.delete(f"{_url(service)}/{uuid.uuid4()}")
    assert gone.status_code == 404
    other = await seed.service(await seed.team(), name="Other")
    window = await client.post(
        _url(service),
        json={"starts_at": "2026-01-06T09:00:00Z", "ends_at": "2026-01-06T10:00:00Z"},
    )
    # A window is only reachable under its own service, even for a platform admin.
    platform = await seed.as_user(await seed.user("Pam", admin=True))
    crossed = await platform.delete(f"{_url(other)}/{window.json()['id']}")
    assert crossed.status_code == 404
    assert len((await client.get(_url(service))).json()) == 1


async def test_only_the_services_managers_change_its_windows(seed: Seed) -> None:
    admin, service = await _setup(seed)
    responder = await seed.user("Rae")
    await seed.team("Search", [(responder, TeamRole.ADMIN)])
    body = {"starts_at": "2026-01-06T09:00:00Z", "ends_at": "2026-01-06T10:00:00Z"}
    outsider = await seed.as_user(responder)
    assert (await outsider.get(_url(service))).status_code == 200
    assert (await outsider.post(_url(service), json=body)).status_code == 403
    reader = await seed.as_key(Scope.SERVICES_READ)
    assert (await reader.post(_url(service), json=body)).json()["scope"] == "services:write"
    created = await admin.post(_url(service), json=body)
    assert created.status_code == 201
    removed = await outsider.delete(f"{_url(service)}/{created.json()['id']}")
    assert removed.status_code == 403
    events = await admin.get(
        "/api/v1/audit-events",
        params={"team_id": str(service.team_id), "action": "service.maintenance_window_added"},
    )
    [event] = events.json()["items"]
    assert event["details"]["starts_at"] == "2026-01-06T09:00:00+00:00"
