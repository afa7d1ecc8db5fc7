from __future__ import annotations

import hashlib

import sqlalchemy as sa

from tests.builders import Seed
from tocsin.clock import FrozenClock
from tocsin.db.models.api_keys import ApiKey
from tocsin.db.session import Database
from tocsin.domain.access import Scope


async def test_a_created_key_is_shown_once_and_stored_only_as_a_hash(
    seed: Seed, database: Database
) -> None:
    admin = await seed.as_user(await seed.user(admin=True))
    created = await admin.post(
        "/api/v1/api-keys", json={"name": "ci", "scopes": ["users:read", "users:write"]}
    )
    assert created.status_code == 201
    secret = created.json()["key"]
    assert secret.startswith("tsk_")
    assert len(secret) >= 4 + 43
    listed = (await admin.get("/api/v1/api-keys")).json()["items"]
    assert all("key" not in item for item in listed)
    assert listed[0]["display_prefix"] == secret[:10]
    async with database.transaction() as session:
        stored = await session.scalar(sa.select(ApiKey))
    assert stored is not None
    assert stored.key_hash == hashlib.sha256(secret.encode()).hexdigest()
    assert secret not in repr(stored.__dict__)


async def test_wrong_malformed_revoked_and_expired_keys_are_401(
    seed: Seed, clock: FrozenClock, database: Database
) -> None:
    client = await seed.as_key(Scope.USERS_READ)
    assert (await client.get("/api/v1/users")).status_code == 200
    wrong = await client.get(
        "/api/v1/users", headers={"Authorization": "Bearer tsk_not-a-real-key"}
    )
    assert wrong.status_code == 401
    assert wrong.headers["www-authenticate"].startswith("Bearer")
    assert wrong.json()["type"] == "/problems/not-authenticated"
    malformed = await client.get("/api/v1/users", headers={"Authorization": "Basic Zm9vOmJhcg=="})
    assert malformed.status_code == 401

    admin = await seed.as_user(await seed.user(admin=True))
    expiring = await admin.post(
        "/api/v1/api-keys",
        json={
            "name": "short",
            "scopes": ["users:read"],
            "expires_at": (clock.now().replace(microsecond=0).isoformat().replace("+00:00", "Z")),
        },
    )
    assert expiring.status_code == 422
    assert expiring.json()["field"] == "expires_at"
    clock.advance(minutes=1)
    expires_at = clock.now().isoformat()
    clock.advance(minutes=-1)
    made = await admin.post(
        "/api/v1/api-keys",
        json={"name": "short", "scopes": ["users:read"], "expires_at": expires_at},
    )
    short_key = made.json()["key"]
    headers = {"Authorization": f"Bearer {short_key}"}
    assert (await client.get("/api/v1/users", headers=headers)).status_code == 200
    clock.advance(minutes=2)
    assert (await client.get("/api/v1/users", headers=headers)).status_code == 401

    revocable = await admin.post("/api/v1/api-keys", json={"name": "rev", "scopes": ["users:read"]})
    revoke = await admin.post(f"/api/v1/api-keys/{revocable.json()['id']}/revoke")
    assert revoke.json()["revoked_at"] is not None
    again = await admin.post(f"/api/v1/api-keys/{revocable.json()['id']}/revoke")
    assert again.status_code == 200
    assert (
        await client.get(
            "/api/v1/users", headers={"Authorization": f"Bearer {revocable.json()['key']}"}
        )
    ).status_code == 401


async def test_missing_scope_is_403_naming_the_scope(seed: Seed) -> None:
    client = await seed.as_key(Scope.USERS_READ)
    response = await client.post("/api/v1/users", json={"email": "a@example.com", "name": "A"})
    assert response.status_code == 403
    assert response.json()["type"] == "/problems/missing-scope"
    assert response.json()["scope"] == "users:write"


async def test_last_used_is_recorded_at_most_once_a_minute(
    seed: Seed, clock: FrozenClock, database: Database
) -> None:
    client = await seed.as_key(Scope.USERS_READ)

    async def last_used() -> object:
        async with database.transaction() as session:
            return await session.scalar(sa.select(ApiKey.last_used_at))

    await client.get("/api/v1/users")
    first = await last_used()
    assert first == clock.now()
    clock.advance(seconds=30)
    await client.get("/api/v1/users")
    assert await last_used() == first
    clock.advance(seconds=31)
    await client.get("/api/v1/users")
    assert await last_used() == clock.now()


async def test_unknown_scope_names_the_field(seed: Seed) -> None:
    admin = await seed.as_user(await seed.user(admin=True))
    response = await admin.post("/api/v1/api-keys", json={"name": "x", "scopes": ["root"]})
    assert response.status_code == 422
    assert response.json()["field"] == "scopes[0]"
