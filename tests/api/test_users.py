from __future__ import annotations

import uuid

from tests.builders import PASSWORD, Seed
from tocsin.domain.access import Scope


async def test_admin_creates_a_user_and_email_is_case_insensitive(seed: Seed) -> None:
    admin = await seed.as_user(await seed.user("Ada", admin=True))
    created = await admin.post(
        "/api/v1/users",
        json={
            "email": "Grace.Hopper@Example.COM",
            "name": "Grace Hopper",
            "time_zone": "America/New_York",
            "phone": "+1 415 555 0123",
        },
    )
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["email"] == "grace.hopper@example.com"
    assert body["phone"] == "+14155550123"
    assert body["time_zone"] == "America/New_York"

    duplicate = await admin.post(
        "/api/v1/users", json={"email": "GRACE.HOPPER@example.com", "name": "G"}
    )
    assert duplicate.status_code == 409
    assert duplicate.headers["content-type"] == "application/problem+json"
    assert duplicate.json()["type"] == "/problems/already-exists"
    assert duplicate.json()["field"] == "email"


async def test_invalid_time_zone_phone_and_email_name_the_field(seed: Seed) -> None:
    admin = await seed.as_user(await seed.user(admin=True))
    cases = [
        ({"email": "x@example.com", "name": "X", "time_zone": "Mars/Olympus"}, "time_zone"),
        ({"email": "x@example.com", "name": "X", "time_zone": "EST"}, "time_zone"),
        ({"email": "x@example.com", "name": "X", "phone": "0123"}, "phone"),
        ({"email": "not-an-email", "name": "X"}, "email"),
        ({"email": "x@example.com", "name": "   "}, "name"),
        ({"email": "x@example.com", "name": "X", "password": "short"}, "password"),
    ]
    for body, field in cases:
        response = await admin.post("/api/v1/users", json=body)
        assert response.status_code == 422, (body, response.text)
        assert response.json()["field"] == field, body


async def test_malformed_json_wrong_types_and_unknown_fields_are_problems(seed: Seed) -> None:
    admin = await seed.as_key(Scope.USERS_WRITE)
    malformed = await admin.post(
        "/api/v1/users", content=b'{"email": ', headers={"content-type": "application/json"}
    )
    assert malformed.status_code == 400
    assert malformed.json()["type"] == "/problems/malformed-json"

    wrong_type = await admin.post("/api/v1/users", json={"email": 5, "name": ["x"]})
    assert wrong_type.status_code == 422
    assert {error["field"] for error in wrong_type.json()["errors"]} == {"email", "name"}

    unknown = await admin.post(
        "/api/v1/users", json={"email": "a@example.com", "name": "A", "is_admin": True}
    )
    assert unknown.status_code == 422
    assert unknown.json()["field"] == "is_admin"


async def test_oversize_body_is_413(seed: Seed) -> None:
    admin = await seed.as_key(Scope.USERS_WRITE)
    response = await admin.post(
        "/api/v1/users",
        content=b'{"name": "' + b"x" * 2_000_000 + b'"}',
        headers={"content-type": "application/json"},
    )
    assert response.status_code == 413
    assert response.json()["type"] == "/problems/payload-too-large"


async def test_unknown_ids_and_routes_are_404_problems(seed: Seed) -> None:
    admin = await seed.as_key(Scope.USERS_READ, Scope.TEAMS_READ)
    missing = await admin.get(f"/api/v1/users/{uuid.uuid4()}")
    assert missing.status_code == 404
    assert missing.json()["type"] == "/problems/not-found"
    not_uuid = await admin.get("/api/v1/users/not-a-uuid")
    assert not_uuid.status_code == 422
    assert not_uuid.json()["field"] == "user_id"
    no_route = await admin.get("/api/v1/nothing-here")
    assert no_route.status_code == 404
    assert no_route.headers["content-type"] == "application/problem+json"


async def test_patch_changes_only_sent_fields_and_null_phone_clears_it(seed: Seed) -> None:
    admin = await seed.as_user(await seed.user(admin=True))
    user = await seed.user("Lin", phone="+442071838750")
    response = await admin.patch(f"/api/v1/users/{user.id}", json={"time_zone": "Europe/London"})
    assert response.json()["phone"] == "+442071838750"
    assert response.json()["time_zone"] == "Europe/London"
    cleared = await admin.patch(f"/api/v1/users/{user.id}", json={"phone": None})
    assert cleared.json()["phone"] is None
    assert cleared.json()["name"] == "Lin"


async def test_deactivating_a_user_signs_them_out(seed: Seed) -> None:
    admin = await seed.as_user(await seed.user(admin=True))
    bob = await seed.user("Bob")
    bob_client = await seed.as_user(bob)
    assert (await bob_client.get("/api/v1/me")).status_code == 200
    response = await admin.patch(f"/api/v1/users/{bob.id}", json={"is_active": False})
    assert response.json()["is_active"] is False
    assert response.json()["deactivated_at"] is not None
    assert (await bob_client.get("/api/v1/me")).status_code == 401


async def test_the_last_platform_admin_cannot_be_demoted_or_deactivated(seed: Seed) -> None:
    only = await seed.user("Only Admin", admin=True)
    admin = await seed.as_user(only)
    demote = await admin.patch(f"/api/v1/users/{only.id}", json={"is_platform_admin": False})
    assert demote.status_code == 409
    deactivate = await admin.patch(f"/api/v1/users/{only.id}", json={"is_active": False})
    assert deactivate.status_code == 409
    second = await seed.user("Second", admin=True)
    assert (
        await admin.patch(f"/api/v1/users/{second.id}", json={"is_platform_admin": False})
    ).status_code == 200


async def test_users_list_is_paginated_with_a_cursor(seed: Seed) -> None:
    for number in range(7):
        await seed.user(f"Paged {number}")
    client = await seed.as_key(Scope.USERS_READ)
    seen: list[str] = []
    cursor = None
    while True:
        params = {"limit": 3, **({"cursor": cursor} if cursor else {})}
        page = (await client.get("/api/v1/users", params=params)).json()
        seen += [item["id"] for item in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert len(seen) == len(set(seen)) == 7
    bad = await client.get("/api/v1/users", params={"cursor": "not-a-cursor"})
    assert bad.status_code == 422
    assert bad.json()["field"] == "cursor"


async def test_people_edit_their_own_profile_but_not_their_admin_flag(seed: Seed) -> None:
    me = await seed.user("Me")
    client = await seed.as_user(me)
    response = await client.patch(
        "/api/v1/me", json={"name": "Me Myself", "time_zone": "Asia/Kolkata"}
    )
    assert response.status_code == 200
    assert response.json()["time_zone"] == "Asia/Kolkata"
    escalate = await client.patch(f"/api/v1/users/{me.id}", json={"is_platform_admin": True})
    assert escalate.status_code == 403
    unknown = await client.patch("/api/v1/me", json={"is_platform_admin": True})
    assert unknown.status_code == 422


async def test_changing_a_password_needs_the_current_one(seed: Seed) -> None:
    me = await seed.user("Pat", password=PASSWORD)
    client = await seed.as_user(me)
    wrong = await client.put(
        "/api/v1/me/password",
        json={"current_password": "nope nope nope", "new_password": "a new long password"},
    )
    assert wrong.status_code == 422
    assert wrong.json()["field"] == "current_password"
    right = await client.put(
        "/api/v1/me/password",
        json={"current_password": PASSWORD, "new_password": "a new long password"},
    )
    assert right.status_code == 204
