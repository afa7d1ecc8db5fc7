"""What each role can do, through the API: observers read, responders cannot manage the
team, team admins manage their team only, platform admins manage everything, and only
platform admins in person manage API keys."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import httpx
import pytest

from tests.builders import Seed
from tocsin.domain.access import Scope, TeamRole

ROLES = ["platform_admin", "team_admin", "responder", "observer", "outsider", "all_scopes_key"]


@dataclass
class World:
    clients: dict[str, httpx.AsyncClient]
    team_id: uuid.UUID
    other_team_id: uuid.UUID
    spare_user_ids: dict[str, uuid.UUID]


@pytest.fixture
async def world(seed: Seed) -> World:
    platform_admin = await seed.user("Pam", admin=True)
    team_admin = await seed.user("Tad")
    responder = await seed.user("Rae")
    observer = await seed.user("Obi")
    outsider = await seed.user("Out")
    spares = {role: (await seed.user(f"Spare {role}")).id for role in ROLES}
    team = await seed.team(
        "Payments",
        [
            (team_admin, TeamRole.ADMIN),
            (responder, TeamRole.RESPONDER),
            (observer, TeamRole.OBSERVER),
        ],
    )
    other = await seed.team("Search", [(outsider, TeamRole.ADMIN)])
    clients = {
        "platform_admin": await seed.as_user(platform_admin),
        "team_admin": await seed.as_user(team_admin),
        "responder": await seed.as_user(responder),
        "observer": await seed.as_user(observer),
        "outsider": await seed.as_user(outsider),
        "all_scopes_key": await seed.as_key(*Scope),
    }
    return World(clients, team.id, other.id, spares)


def allowed(*roles: str) -> dict[str, bool]:
    return {role: role in roles for role in ROLES}


MATRIX: list[tuple[str, str, str, dict[str, object] | None, dict[str, bool]]] = [
    ("read team", "GET", "/api/v1/teams/{team}", None, allowed(*ROLES)),
    ("list users", "GET", "/api/v1/users", None, allowed(*ROLES)),
    ("list members", "GET", "/api/v1/teams/{team}/members", None, allowed(*ROLES)),
    (
        "rename team",
        "PATCH",
        "/api/v1/teams/{team}",
        {"description": "changed"},
        allowed("platform_admin", "team_admin", "all_scopes_key"),
    ),
    (
        "add member",
        "POST",
        "/api/v1/teams/{team}/members",
        {"user_id": "{spare}", "role": "observer"},
        allowed("platform_admin", "team_admin", "all_scopes_key"),
    ),
    (
        "create team",
        "POST",
        "/api/v1/teams",
        {"name": "New {role}"},
        allowed("platform_admin", "all_scopes_key"),
    ),
    (
        "create user",
        "POST",
        "/api/v1/users",
        {"email": "new-{role}@example.com", "name": "N"},
        allowed("platform_admin", "all_scopes_key"),
    ),
    (
        "read team audit",
        "GET",
        "/api/v1/audit-events?team_id={team}",
        None,
        allowed("platform_admin", "team_admin", "all_scopes_key"),
    ),
    ("list api keys", "GET", "/api/v1/api-keys", None, allowed("platform_admin")),
    (
        "create api key",
        "POST",
        "/api/v1/api-keys",
        {"name": "k", "scopes": ["users:read"]},
        allowed("platform_admin"),
    ),
    (
        "manage other team",
        "PATCH",
        "/api/v1/teams/{other}",
        {"description": "x"},
        allowed("platform_admin", "all_scopes_key", "outsider"),
    ),
]


@pytest.mark.parametrize(
    ("label", "method", "path", "body", "expected"), MATRIX, ids=[row[0] for row in MATRIX]
)
async def test_role_matrix(
    world: World,
    label: str,
    method: str,
    path: str,
    body: dict[str, object] | None,
    expected: dict[str, bool],
) -> None:
    outcomes: dict[str, int] = {}
    for role in ROLES:

        def fill(text: str, role: str = role) -> str:
            return (
                text.replace("{team}", str(world.team_id))
                .replace("{other}", str(world.other_team_id))
                .replace("{spare}", str(world.spare_user_ids[role]))
                .replace("{role}", role)
            )

        json_body = {
            key: fill(value) if isinstance(value, str) else value
            for key, value in (body or {}).items()
        }
        response = await world.clients[role].request(
            method, fill(path), json=json_body if body else None
        )
        outcomes[role] = response.status_code
        if response.status_code == 403:
            assert response.headers["content-type"] == "application/problem+json"
        if role == "observer" and method != "GET":
            # Observers read everything and change nothing: the changed state proves it.
            assert response.status_code == 403
    wanted = {role: ("2xx" if ok else 403) for role, ok in expected.items()}
    got = {role: ("2xx" if status in (200, 201) else status) for role, status in outcomes.items()}
    assert got == wanted, label


async def test_team_admins_read_only_their_teams_audit(world: World) -> None:
    mine = await world.clients["team_admin"].get("/api/v1/audit-events")
    assert mine.status_code == 200
    assert mine.json()["items"]
    assert {item["team_id"] for item in mine.json()["items"]} == {str(world.team_id)}
    theirs = await world.clients["team_admin"].get(
        f"/api/v1/audit-events?team_id={world.other_team_id}"
    )
    assert theirs.status_code == 403
