"""Overrides, swaps, calendar feeds, and the resolver the escalation engine calls."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import httpx
import icalendar

from tests.builders import Seed
from tocsin.actions.oncall import on_call as oncall
from tocsin.db.models.users import User
from tocsin.domain.access import TeamRole

# Clock: Monday 2026-01-05 09:00 UTC. The schedule is in UTC, daily at 09:00, Alice first.


async def _rotation(
    seed: Seed, *people: User, observers: tuple[User, ...] = ()
) -> tuple[httpx.AsyncClient, str]:
    admin = await seed.user("Admin")
    team = await seed.team(
        members=[
            (admin, TeamRole.ADMIN),
            *((person, TeamRole.RESPONDER) for person in people),
            *((person, TeamRole.OBSERVER) for person in observers),
        ]
    )
    client = await seed.as_user(admin)
    schedule = await client.post(
        "/api/v1/schedules", json={"team_id": str(team.id), "name": "Ops", "time_zone": "UTC"}
    )
    sid: str = schedule.json()["id"]
    layer = await client.post(
        f"/api/v1/schedules/{sid}/layers",
        json={
            "name": "Daily",
            "start": "2026-01-05T09:00",
            "rotation": {"kind": "daily"},
            "participants": [str(person.id) for person in people],
        },
    )
    assert layer.status_code == 201, layer.text
    return client, sid


def _override(user: User, start: str, end: str, **extra: Any) -> dict[str, Any]:
    return {"user_id": str(user.id), "starts_at": start, "ends_at": end, **extra}


async def test_overlapping_override_is_refused_with_409_naming_the_conflict(seed: Seed) -> None:
    alice, bob, dan = await seed.user("Alice"), await seed.user("Bob"), await seed.user("Dan")
    client, sid = await _rotation(seed, alice, bob, dan)
    url = f"/api/v1/schedules/{sid}/overrides"
    first = await client.post(url, json=_override(dan, "2026-01-05T12:00Z", "2026-01-06T12:00Z"))
    assert first.status_code == 201, first.text
    clash = await client.post(url, json=_override(bob, "2026-01-06T11:00Z", "2026-01-07T00:00Z"))
    assert clash.status_code == 409
    assert clash.headers["content-type"] == "application/problem+json"
    assert clash.json()["conflicting_override"]["id"] == first.json()["id"]
    back_to_back = await client.post(
        url, json=_override(bob, "2026-01-06T12:00Z", "2026-01-07T00:00Z")
    )
    assert back_to_back.status_code == 201
    on_call = await client.get(
        f"/api/v1/schedules/{sid}/on-call", params={"at": "2026-01-05T20:00:00Z"}
    )
    assert on_call.json()["user_id"] == str(dan.id)
    assert on_call.json()["source"] == "override"
    assert on_call.json()["override_id"] == first.json()["id"]


async def test_overrides_are_validated(seed: Seed) -> None:
    alice, bob = await seed.user("Alice"), await seed.user("Bob")
    watcher = await seed.user("Watcher")
    client, sid = await _rotation(seed, alice, bob, observers=(watcher,))
    url = f"/api/v1/schedules/{sid}/overrides"
    cases = [
        (_override(bob, "2026-01-06T00:00Z", "2026-01-05T00:00Z"), "ends_at"),
        (_override(bob, "2026-01-01T00:00Z", "2026-01-02T00:00Z"), "ends_at"),
        (_override(watcher, "2026-01-06T00:00Z", "2026-01-07T00:00Z"), "user_id"),
        (_override(bob, "2026-01-06T00:00", "2026-01-07T00:00Z"), "starts_at"),
        (
            _override(bob, "2026-01-06T00:00Z", "2026-01-07T00:00Z", replaces_user_id=str(bob.id)),
            "replaces_user_id",
        ),
        (
            _override(
                alice, "2026-01-06T00:00Z", "2026-01-07T00:00Z", replaces_user_id=str(watcher.id)
            ),
            "replaces_user_id",
        ),
    ]
    for body, field in cases:
        response = await client.post(url, json=body)
        assert response.status_code == 422, (body, response.text)
        assert response.json()["field"] == field, (body, response.json())


async def test_named_override_covers_only_that_person_and_its_creator_may_delete_it(
    seed: Seed,
) -> None:
    alice, bob, carol = await seed.user("Alice"), await seed.user("Bob"), await seed.user("Carol")
    admin, sid = await _rotation(seed, alice, bob)
    await admin.post(
        f"/api/v1/teams/{(await _team_of(admin, sid))}/members",
        json={"user_id": str(carol.id), "role": "responder"},
    )
    as_carol, as_alice = await seed.as_user(carol), await seed.as_user(alice)
    created = await as_carol.post(
        f"/api/v1/schedules/{sid}/overrides",
        json=_override(
            carol, "2026-01-05T00:00Z", "2026-01-08T00:00Z", replaces_user_id=str(bob.id)
        ),
    )
    assert created.status_code == 201, created.text
    timeline = await admin.get(
        f"/api/v1/schedules/{sid}/timeline",
        params={"since": "2026-01-05T09:00:00Z", "until": "2026-01-08T09:00:00Z"},
    )
    assert [s["user_id"] for s in timeline.json()["segments"]] == [
        str(alice.id),
        str(carol.id),
        str(alice.id),
    ]
    override_url = f"/api/v1/schedules/{sid}/overrides/{created.json()['id']}"
    assert (await as_alice.delete(override_url)).status_code == 403
    assert (await as_carol.delete(override_url)).status_code == 204
    assert (await as_carol.delete(override_url)).status_code == 404


async def test_swap_trades_two_real_shifts_and_deleting_half_removes_both(seed: Seed) -> None:
    alice, bob, carol = await seed.user("Alice"), await seed.user("Bob"), await seed.user("Carol")
    admin, sid = await _rotation(seed, alice, bob, carol)
    as_alice = await seed.as_user(alice)
    url = f"/api/v1/schedules/{sid}/swaps"
    alice_shift = {
        "user_id": str(alice.id),
        "starts_at": "2026-01-08T09:00Z",
        "ends_at": "2026-01-09T09:00Z",
    }  # Thursday: Alice again
    bob_shift = {
        "user_id": str(bob.id),
        "starts_at": "2026-01-09T09:00Z",
        "ends_at": "2026-01-10T09:00Z",
    }
    not_hers = {**alice_shift, "starts_at": "2026-01-07T09:00Z", "ends_at": "2026-01-08T09:00Z"}
    refused = await as_alice.post(url, json={"first": not_hers, "second": bob_shift})
    assert refused.status_code == 409
    assert refused.json()["field"] == "first.starts_at"
    as_carol = await seed.as_user(carol)
    assert (
        await as_carol.post(url, json={"first": alice_shift, "second": bob_shift})
    ).status_code == 403
    swapped = await as_alice.post(url, json={"first": alice_shift, "second": bob_shift})
    assert swapped.status_code == 201, swapped.text
    halves = swapped.json()
    assert {half["kind"] for half in halves} == {"swap"}
    assert halves[0]["swap_id"] == halves[1]["swap_id"]
    assert halves[0]["reason"] == "Shift swap"
    for at, who in (("2026-01-08T12:00:00Z", bob), ("2026-01-09T12:00:00Z", alice)):
        answer = await admin.get(f"/api/v1/schedules/{sid}/on-call", params={"at": at})
        assert answer.json()["user_id"] == str(who.id)
    again = await as_alice.post(url, json={"first": alice_shift, "second": bob_shift})
    assert again.status_code == 409
    assert (
        await admin.delete(f"/api/v1/schedules/{sid}/overrides/{halves[0]['id']}")
    ).status_code == 204
    remaining = await admin.get(
        f"/api/v1/schedules/{sid}/overrides", params={"since": "2026-01-01T00:00:00Z"}
    )
    assert remaining.json() == []


async def test_calendar_feed_lists_upcoming_shifts_until_revoked(seed: Seed) -> None:
    alice, bob = await seed.user("Alice"), await seed.user("Bob")
    _, sid = await _rotation(seed, alice, bob)
    as_alice = await seed.as_user(alice)
    personal = await as_alice.post("/api/v1/calendar-feeds", json={})
    assert personal.status_code == 201, personal.text
    url = personal.json()["url"]
    assert url.startswith("https://tocsin.test/calendars/tcf_")
    feed = await as_alice.get(url.removeprefix("https://tocsin.test"))
    assert feed.status_code == 200
    assert feed.headers["content-type"].startswith("text/calendar")
    calendar = icalendar.Calendar.from_ical(feed.content)
    starts = sorted(event.decoded("dtstart") for event in calendar.walk("VEVENT"))
    # Alice: every other day from Monday 09:00 UTC, 60 days ahead.
    assert starts[0] == datetime(2026, 1, 5, 9, tzinfo=UTC)
    assert starts[1] == datetime(2026, 1, 7, 9, tzinfo=UTC)
    assert len(starts) == 30
    schedule_feed = await as_alice.post("/api/v1/calendar-feeds", json={"schedule_id": sid})
    whole = icalendar.Calendar.from_ical(
        (
            await as_alice.get(schedule_feed.json()["url"].removeprefix("https://tocsin.test"))
        ).content
    )
    assert len(list(whole.walk("VEVENT"))) == 60
    listed = await as_alice.get("/api/v1/calendar-feeds")
    assert len(listed.json()) == 2
    revoked = await as_alice.delete(f"/api/v1/calendar-feeds/{personal.json()['id']}")
    assert revoked.status_code == 204
    gone = await as_alice.get(url.removeprefix("https://tocsin.test"))
    assert gone.status_code == 404
    assert (await as_alice.get("/calendars/tcf_not-a-token.ics")).status_code == 404


async def test_resolver_for_the_escalation_engine(seed: Seed) -> None:
    alice, bob = await seed.user("Alice"), await seed.user("Bob")
    _, sid = await _rotation(seed, alice, bob)
    schedule_id = uuid.UUID(sid)
    async with seed.database.transaction() as session:
        monday = datetime(2026, 1, 5, 12, tzinfo=UTC)
        assert await oncall.on_call_users(session, schedule_id=schedule_id, at=monday) == [alice.id]
        before = datetime(2026, 1, 5, 8, tzinfo=UTC)
        assert await oncall.on_call_users(session, schedule_id=schedule_id, at=before) == []
        assert await oncall.on_call_users(session, schedule_id=uuid.uuid4(), at=monday) == []
        handoffs = await oncall.upcoming_handoffs(
            session,
            since=datetime(2026, 1, 5, 9, tzinfo=UTC),
            until=datetime(2026, 1, 7, 9, tzinfo=UTC),
        )
    assert [(h.at.day, h.from_user_id, h.to_user_id) for h in handoffs] == [
        (5, None, alice.id),
        (6, alice.id, bob.id),
    ]


async def _team_of(client: httpx.AsyncClient, schedule_id: str) -> str:
    team_id: str = (await client.get(f"/api/v1/schedules/{schedule_id}")).json()["team_id"]
    return team_id


async def test_resolver_pages_nobody_rather_than_someone_who_left_the_rotation_team(
    seed: Seed,
) -> None:
    alice, bob = await seed.user("Alice"), await seed.user("Bob")
    admin, sid = await _rotation(seed, alice, bob)
    monday = datetime(2026, 1, 5, 12, tzinfo=UTC)
    demoted = await admin.patch(
        f"/api/v1/teams/{await _team_of(admin, sid)}/members/{alice.id}",
        json={"role": "observer"},
    )
    assert demoted.status_code == 200, demoted.text
    async with seed.database.transaction() as session:
        assert await oncall.on_call_users(session, schedule_id=uuid.UUID(sid), at=monday) == []
        tuesday = monday.replace(day=6)
        assert await oncall.on_call_users(session, schedule_id=uuid.UUID(sid), at=tuesday) == [
            bob.id
        ]
