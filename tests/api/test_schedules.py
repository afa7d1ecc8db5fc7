"""Schedules over HTTP: layers, restrictions, reordering, on-call queries and validation."""

from __future__ import annotations

import uuid
from typing import Any

import httpx

from tests.builders import Seed
from tocsin.db.models.users import User
from tocsin.domain.access import Scope, TeamRole

# The test clock starts on Monday 2026-01-05 09:00 UTC, 04:00 in New York.
WEEKDAYS_9_TO_5 = {"days": [1, 2, 3, 4, 5], "start": "09:00", "end": "17:00"}


async def _team_schedule(
    seed: Seed, *people: User, zone: str = "America/New_York"
) -> tuple[httpx.AsyncClient, dict[str, Any]]:
    admin = await seed.user("Admin")
    team = await seed.team(
        members=[(admin, TeamRole.ADMIN), *((person, TeamRole.RESPONDER) for person in people)]
    )
    client = await seed.as_user(admin)
    created = await client.post(
        "/api/v1/schedules", json={"team_id": str(team.id), "name": "Primary", "time_zone": zone}
    )
    assert created.status_code == 201, created.text
    return client, created.json()


async def _add_layer(client: httpx.AsyncClient, schedule_id: str, **fields: Any) -> dict[str, Any]:
    body = {"name": "Layer", "start": "2026-01-05T09:00", "rotation": {"kind": "daily"}, **fields}
    response = await client.post(f"/api/v1/schedules/{schedule_id}/layers", json=body)
    assert response.status_code == 201, response.text
    result: dict[str, Any] = response.json()
    return result


async def test_restricted_layer_over_a_base_layer_renders_with_explicit_gaps(seed: Seed) -> None:
    alice, bob, carol = await seed.user("Alice"), await seed.user("Bob"), await seed.user("Carol")
    client, schedule = await _team_schedule(seed, alice, bob, carol)
    sid = schedule["id"]
    await _add_layer(
        client,
        sid,
        name="Nights",
        start="2026-01-05T17:00",
        rotation={"kind": "custom", "unit": "hours", "count": 16},
        participants=[str(alice.id)],
        restrictions=[{"days": [1, 2, 3, 4], "start": "17:00", "end": "09:00"}],
    )
    detail = await _add_layer(
        client,
        sid,
        name="Business hours",
        rotation={"kind": "weekly"},
        participants=[str(bob.id), str(carol.id)],
        restrictions=[WEEKDAYS_9_TO_5],
    )
    assert [layer["name"] for layer in detail["layers"]] == ["Business hours", "Nights"]

    response = await client.get(
        f"/api/v1/schedules/{sid}/timeline",
        params={"since": "2026-01-09T14:00:00Z", "until": "2026-01-12T14:00:00Z"},
    )
    assert response.status_code == 200, response.text
    segments = response.json()["segments"]
    # Friday 09:00-17:00 Bob; then nobody until Monday 09:00 (no Friday night window).
    assert [(s["start"], s["end"], s["user_id"], s["source"]) for s in segments] == [
        ("2026-01-09T14:00:00Z", "2026-01-09T22:00:00Z", str(bob.id), "layer"),
        ("2026-01-09T22:00:00Z", "2026-01-12T14:00:00Z", None, "gap"),
    ]
    at_night = await client.get(
        f"/api/v1/schedules/{sid}/on-call", params={"at": "2026-01-06T03:00:00Z"}
    )
    assert at_night.json()["user_id"] == str(alice.id)
    saturday = await client.get(
        f"/api/v1/schedules/{sid}/on-call", params={"at": "2026-01-10T15:00:00Z"}
    )
    assert saturday.json() | {"at": None} == {
        "schedule_id": sid,
        "schedule_name": "Primary",
        "team_id": schedule["team_id"],
        "at": None,
        "user_id": None,
        "source": "gap",
        "layer_id": None,
        "override_id": None,
    }


async def test_reordering_layers_changes_which_one_wins(seed: Seed) -> None:
    alice, bob = await seed.user("Alice"), await seed.user("Bob")
    client, schedule = await _team_schedule(seed, alice, bob)
    sid = schedule["id"]
    await _add_layer(client, sid, name="A", participants=[str(alice.id)])
    detail = await _add_layer(client, sid, name="B", participants=[str(bob.id)])
    at = {"at": "2026-01-06T15:00:00Z"}
    assert (await client.get(f"/api/v1/schedules/{sid}/on-call", params=at)).json()[
        "user_id"
    ] == str(bob.id)
    ids = [layer["id"] for layer in detail["layers"]]
    reordered = await client.put(
        f"/api/v1/schedules/{sid}/layer-order", json={"layer_ids": list(reversed(ids))}
    )
    assert [layer["name"] for layer in reordered.json()["layers"]] == ["A", "B"]
    assert (await client.get(f"/api/v1/schedules/{sid}/on-call", params=at)).json()[
        "user_id"
    ] == str(alice.id)
    partial = await client.put(f"/api/v1/schedules/{sid}/layer-order", json={"layer_ids": ids[:1]})
    assert partial.status_code == 422
    assert partial.json()["field"] == "layer_ids"


async def test_removing_the_participant_on_call_hands_over_to_the_next(seed: Seed) -> None:
    alice, bob, carol = await seed.user("Alice"), await seed.user("Bob"), await seed.user("Carol")
    _, schedule = await _team_schedule(seed, alice, bob, carol)
    sid = schedule["id"]
    seed.clock.set(seed.clock.now().replace(day=6, hour=20))  # Tuesday: Bob's day
    # A key, not a browser session: the session would have gone idle over a day and a half.
    client = await seed.as_key(Scope.SCHEDULES_READ, Scope.SCHEDULES_WRITE)
    detail = await _add_layer(client, sid, participants=[str(alice.id), str(bob.id), str(carol.id)])
    layer_id = detail["layers"][0]["id"]
    assert (await client.get(f"/api/v1/schedules/{sid}/on-call")).json()["user_id"] == str(bob.id)
    updated = await client.patch(
        f"/api/v1/schedules/{sid}/layers/{layer_id}",
        json={"participants": [str(alice.id), str(carol.id)]},
    )
    assert updated.status_code == 200, updated.text
    assert (await client.get(f"/api/v1/schedules/{sid}/on-call")).json()["user_id"] == str(carol.id)
    tomorrow = {"at": "2026-01-07T20:00:00Z"}
    assert (await client.get(f"/api/v1/schedules/{sid}/on-call", params=tomorrow)).json()[
        "user_id"
    ] == str(alice.id)


async def test_a_layer_that_starts_in_the_future_and_an_empty_schedule(seed: Seed) -> None:
    alice = await seed.user("Alice")
    client, schedule = await _team_schedule(seed, alice)
    sid = schedule["id"]
    empty = await client.get(f"/api/v1/schedules/{sid}/timeline")
    assert [(s["source"], s["user_id"]) for s in empty.json()["segments"]] == [("gap", None)]
    await _add_layer(client, sid, start="2026-02-01T09:00", participants=[str(alice.id)])
    now = await client.get(f"/api/v1/schedules/{sid}/on-call")
    assert now.json()["source"] == "gap"
    later = await client.get(
        f"/api/v1/schedules/{sid}/on-call", params={"at": "2026-02-01T14:00:00Z"}
    )
    assert later.json()["user_id"] == str(alice.id)


async def test_on_call_per_team_and_per_user(seed: Seed) -> None:
    alice, bob = await seed.user("Alice"), await seed.user("Bob")
    client, schedule = await _team_schedule(seed, alice, bob)
    await _add_layer(client, schedule["id"], start="2026-01-01T00:00", participants=[str(alice.id)])
    team = await client.get("/api/v1/schedules/on-call", params={"team_id": schedule["team_id"]})
    assert [answer["user_id"] for answer in team.json()] == [str(alice.id)]
    reader = await seed.as_key(Scope.SCHEDULES_READ)
    mine = await reader.get("/api/v1/schedules/on-call", params={"user_id": str(alice.id)})
    assert [answer["schedule_id"] for answer in mine.json()] == [schedule["id"]]
    not_bob = await reader.get("/api/v1/schedules/on-call", params={"user_id": str(bob.id)})
    assert not_bob.json() == []
    neither = await reader.get("/api/v1/schedules/on-call")
    assert neither.status_code == 422


async def test_only_team_admins_manage_schedules(seed: Seed) -> None:
    responder, observer = await seed.user("Responder"), await seed.user("Observer")
    client, schedule = await _team_schedule(seed, responder)
    admin_of_team = {"team_id": schedule["team_id"], "name": "Other", "time_zone": "UTC"}
    as_responder = await seed.as_user(responder)
    denied = await as_responder.post("/api/v1/schedules", json=admin_of_team)
    assert denied.status_code == 403
    assert (
        await as_responder.post(
            f"/api/v1/schedules/{schedule['id']}/layers",
            json={"name": "X", "start": "2026-01-05T09:00", "rotation": {"kind": "daily"}},
        )
    ).status_code == 403
    reader = await seed.as_key(Scope.SCHEDULES_READ)
    missing = await reader.delete(f"/api/v1/schedules/{schedule['id']}")
    assert missing.status_code == 403
    assert missing.json()["scope"] == "schedules:write"
    outsider = await seed.as_user(observer)
    assert (await outsider.get(f"/api/v1/schedules/{schedule['id']}")).status_code == 200
    assert (await client.delete(f"/api/v1/schedules/{schedule['id']}")).status_code == 204
    assert (await client.get(f"/api/v1/schedules/{schedule['id']}")).status_code == 404


async def test_invalid_layers_and_schedules_name_the_field(seed: Seed) -> None:
    member = await seed.user("Member")
    stranger = await seed.user("Stranger")
    client, schedule = await _team_schedule(seed, member)
    url = f"/api/v1/schedules/{schedule['id']}/layers"
    base = {"name": "L", "start": "2026-01-05T09:00", "rotation": {"kind": "daily"}}
    cases: list[tuple[dict[str, Any], str]] = [
        ({**base, "start": "2026-01-05T09:00:00Z"}, "start"),
        ({**base, "rotation": {"kind": "custom", "unit": "days"}}, "rotation"),
        ({**base, "rotation": {"kind": "daily", "count": 2}}, "rotation"),
        ({**base, "participants": [str(stranger.id)]}, "participants"),
        ({**base, "participants": [str(uuid.uuid4())]}, "participants"),
        ({**base, "end": "2026-01-05T08:00"}, "end"),
        (
            {**base, "restrictions": [{"days": [8], "start": "09:00", "end": "17:00"}]},
            "restrictions[0].days[0]",
        ),
        (
            {**base, "restrictions": [{"days": [1], "start": "09:00:30", "end": "17:00"}]},
            "restrictions[0].start",
        ),
        ({**base, "priority": 3}, "priority"),
    ]
    for body, field in cases:
        response = await client.post(url, json=body)
        assert response.status_code in (404, 422), (body, response.text)
        if response.status_code == 422:
            assert response.json()["field"] == field, (body, response.json())
    zone = await client.post(
        "/api/v1/schedules",
        json={"team_id": schedule["team_id"], "name": "Z", "time_zone": "EST"},
    )
    assert zone.status_code == 422
    assert zone.json()["field"] == "time_zone"
    duplicate = await client.post(
        "/api/v1/schedules",
        json={"team_id": schedule["team_id"], "name": "PRIMARY", "time_zone": "UTC"},
    )
    assert duplicate.status_code == 409
    assert duplicate.json()["field"] == "name"
    naive_at = await client.get(
        f"/api/v1/schedules/{schedule['id']}/on-call", params={"at": "2026-01-05T09:00"}
    )
    assert naive_at.status_code == 422
    too_long = await client.get(
        f"/api/v1/schedules/{schedule['id']}/timeline",
        params={"since": "2026-01-01T00:00:00Z", "until": "2028-01-01T00:00:00Z"},
    )
    assert too_long.status_code == 422
    assert too_long.json()["field"] == "until"
