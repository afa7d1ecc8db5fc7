from __future__ import annotations

import secrets
from pathlib import Path

import httpx
import psycopg
from psycopg import sql

from tests.builders import Seed
from tests.conftest import IsolatedSettings, database_url_for
from tocsin.app import create_app
from tocsin.clock import FrozenClock
from tocsin.db.session import Database
from tocsin.domain.access import Scope


async def test_healthz_readyz_and_metrics(client: httpx.AsyncClient) -> None:
    assert (await client.get("/healthz")).json() == {"status": "ok"}
    ready = await client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json()["database"] == "ok"
    await client.get("/api/v1/users")
    metrics = (await client.get("/metrics")).text
    assert (
        'tocsin_http_requests_total{method="GET",route="/api/v1/users",status="401"} 1.0' in metrics
    )
    assert "process_resident_memory_bytes" in metrics


async def _app_on(
    url: str, tmp_path: Path, **configured: str
) -> tuple[httpx.AsyncClient, Database]:
    settings = IsolatedSettings(
        database_url=url, data_dir=tmp_path, secret_key="k" * 32, **configured
    )
    database = Database(url, pool_size=1, max_overflow=0)
    app = create_app(settings=settings, clock=FrozenClock(), database=database, secret=b"k" * 32)
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="https://tocsin.test"
    ), database


async def test_readyz_is_503_when_the_database_is_unreachable(tmp_path: Path) -> None:
    client, database = await _app_on(
        "postgresql://postgres@127.0.0.1:1/nowhere?connect_timeout=2", tmp_path
    )
    async with client:
        ready = await client.get("/readyz")
        assert ready.status_code == 503
        assert ready.headers["retry-after"]
        api = await client.get("/api/v1/users", headers={"Authorization": "Bearer tsk_x"})
        assert api.status_code == 503
        assert api.json()["type"] == "/problems/service-unavailable"
        assert api.headers["retry-after"]
        assert (await client.get("/healthz")).status_code == 200
        # A signed-in person's page: their session is looked up in the database.
        client.cookies.set("tocsin_session", "a-session-token")
        page = await client.get("/incidents", headers={"accept": "text/html"})
        assert page.status_code == 503
        assert page.headers["content-type"].startswith("text/html")
        assert "Database unavailable" in page.text
        assert "already accepted are kept" in page.text
        assert page.headers["retry-after"]
        assert "tocsin_database_up 0.0" in (await client.get("/metrics")).text
    await database.dispose()


async def test_readyz_is_503_until_migrations_are_applied(server_url: str, tmp_path: Path) -> None:
    # Random: several runs may share a server (a developer's and CI's).
    name = f"tocsin_test_unmigrated_{secrets.token_hex(4)}"
    admin = server_url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        client, database = await _app_on(database_url_for(server_url, name), tmp_path)
        async with client:
            ready = await client.get("/readyz")
            assert ready.status_code == 503
            assert ready.json()["database"] == "not migrated"
        await database.dispose()
    finally:
        with psycopg.connect(admin, autocommit=True) as connection:
            connection.execute(
                sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(name))
            )


async def test_docs_and_openapi_are_served_without_a_cdn(
    client: httpx.AsyncClient, seed: Seed
) -> None:
    docs = await client.get("/docs")
    assert docs.status_code == 200
    assert "/static/swagger-ui/swagger-ui-bundle.js" in docs.text
    assert "cdn" not in docs.text.lower()
    assert (await client.get("/static/swagger-ui/swagger-ui-bundle.js")).status_code == 200
    spec = (await client.get("/openapi.json")).json()
    assert "/api/v1/users" in spec["paths"]
    problem = await client.get("/problems/missing-scope", headers={"accept": "text/html"})
    assert problem.status_code == 200
    assert "Missing scope" in problem.text
    assert (await (await seed.as_key(Scope.USERS_READ)).get("/api/v1/users")).status_code == 200


async def test_metrics_asks_for_the_metrics_token_when_one_is_set(
    database_url: str, tmp_path: Path
) -> None:
    client, database = await _app_on(database_url, tmp_path, metrics_token="prom-Secret-1")
    async with client:
        for refused in (
            await client.get("/metrics"),
            await client.get("/metrics", headers={"Authorization": "Bearer prom-secret-1"}),
            await client.get("/metrics", headers={"Authorization": "Basic prom-Secret-1"}),
        ):
            assert refused.status_code == 401
            assert refused.headers["content-type"] == "application/problem+json"
            assert refused.headers["www-authenticate"].startswith("Bearer")
            assert "process_resident_memory_bytes" not in refused.text
        allowed = await client.get("/metrics", headers={"Authorization": "Bearer prom-Secret-1"})
        assert allowed.status_code == 200
        assert "process_resident_memory_bytes" in allowed.text
        assert (await client.get("/healthz")).status_code == 200
    await database.dispose()
