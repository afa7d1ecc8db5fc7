"""A query parameter the API takes once is refused when given twice (FastAPI would keep
the last and answer as if the first had not been asked); list parameters repeat freely."""

from __future__ import annotations

from tests.builders import Seed


async def test_a_single_valued_parameter_given_twice_is_refused_naming_it(seed: Seed) -> None:
    admin = await seed.as_user(await seed.user("Auditor", admin=True))
    refused = await admin.get(
        "/api/v1/audit-events?resource_type=team&resource_type=user&limit=5&limit=6"
    )
    assert refused.status_code == 422, refused.text
    problem = refused.json()
    assert problem["field"] in ("limit", "resource_type")
    assert {error["field"] for error in problem["errors"]} == {"limit", "resource_type"}
    assert all(error["in"] == "query" for error in problem["errors"])

    once = await admin.get("/api/v1/audit-events?resource_type=team&limit=5")
    assert once.status_code == 200, once.text


async def test_a_list_parameter_may_repeat(seed: Seed) -> None:
    admin = await seed.as_user(await seed.user("Watcher", admin=True))
    listed = await admin.get("/api/v1/incidents?status=triggered&status=acknowledged")
    assert listed.status_code == 200, listed.text
