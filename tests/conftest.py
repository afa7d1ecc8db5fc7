"""Test harness: a real PostgreSQL, a database per test, a frozen clock.

``TOCSIN_TEST_DATABASE_URL`` points at a server (CI uses the one on 127.0.0.1:5432); when it
is unset, an embedded PostgreSQL is started for the run. Each run migrates one template
database with Alembic; every test that asks for ``database_url`` gets its own
``CREATE DATABASE … TEMPLATE`` copy, so a test may commit, hold several connections and run
several engines without seeing any other test. Everything the run creates is dropped after.

Golden tests (intake formats, email rendering) compare output with reviewed files;
``--update-golden`` rewrites those files instead, and the diff is reviewed.
"""

from __future__ import annotations

import os
import secrets
import tempfile
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path
from typing import Any

import psycopg
import pytest
from psycopg import sql
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource

from tocsin.clock import FrozenClock
from tocsin.config import Settings
from tocsin.db import migrate
from tocsin.db.embedded import EmbeddedPostgres
from tocsin.db.session import Database

pytest_plugins = ["tests.builders"]


class IsolatedSettings(Settings):
    """Settings from the arguments only: nothing leaks in from the environment."""

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings,)


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--update-golden",
        action="store_true",
        default=False,
        help=(
            "rewrite the golden files (tests/ingest/golden/, tests/notify/golden/) from the "
            "current output instead of comparing with them; review the diff like any change"
        ),
    )


@pytest.fixture
def update_golden(request: pytest.FixtureRequest) -> bool:
    """``--update-golden`` was given: golden tests write what they produce and pass."""
    return bool(request.config.getoption("--update-golden"))


@pytest.fixture(scope="session")
def server_url() -> Iterator[str]:
    """Admin URL of the PostgreSQL server the run uses (its ``postgres`` database)."""
    configured = os.environ.get("TOCSIN_TEST_DATABASE_URL")
    if configured:
        yield configured
        return
    with tempfile.TemporaryDirectory(prefix="tocsin-test-pg-") as folder:
        embedded = EmbeddedPostgres(Path(folder))
        url = embedded.start()
        try:
            yield database_url_for(url, "postgres")
        finally:
            embedded.stop()


def database_url_for(server: str, name: str) -> str:
    """``server`` with its database replaced by ``name`` (query string kept)."""
    base, _, query = server.partition("?")
    root = base.rsplit("/", 1)[0]
    return f"{root}/{name}" + (f"?{query}" if query else "")


def _admin(server: str) -> psycopg.Connection[Any]:
    return psycopg.connect(
        server.replace("postgresql+psycopg://", "postgresql://"), autocommit=True
    )


@pytest.fixture(scope="session")
def template_database(server_url: str) -> Iterator[str]:
    """A database migrated to head, copied for each test. Returns its name."""
    run = secrets.token_hex(4)
    name = f"tocsin_test_{run}_template"
    with _admin(server_url) as connection:
        connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    migrate.upgrade(database_url_for(server_url, name))
    try:
        yield name
    finally:
        with _admin(server_url) as connection:
            leftovers = connection.execute(
                "SELECT datname FROM pg_database WHERE datname LIKE %s",
                (f"tocsin_test_{run}_%",),
            ).fetchall()
            for (leftover,) in leftovers:
                connection.execute(
                    sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
                        sql.Identifier(leftover)
                    )
                )


@contextmanager
def cloned_database(server_url: str, template_database: str) -> Iterator[str]:
    """A fresh copy of the migrated template, dropped afterwards. Yields its URL."""
    name = template_database.replace("_template", f"_{secrets.token_hex(4)}")
    with _admin(server_url) as connection:
        connection.execute(
            sql.SQL("CREATE DATABASE {} TEMPLATE {} STRATEGY FILE_COPY").format(
                sql.Identifier(name), sql.Identifier(template_database)
            )
        )
    try:
        yield database_url_for(server_url, name)
    finally:
        with _admin(server_url) as connection:
            connection.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )


@pytest.fixture
def database_url(server_url: str, template_database: str) -> Iterator[str]:
    with cloned_database(server_url, template_database) as url:
        yield url


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock()


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return IsolatedSettings(
        database_url=database_url,
        data_dir=tmp_path / "data",
        secret_key="test-secret-key-not-for-production",
        public_url="https://tocsin.test",
    )


@asynccontextmanager
async def pooled_database(settings: Settings, connections: int) -> AsyncIterator[Database]:
    """The test's database with a pool of ``connections`` (and as many again in overflow)."""
    assert settings.database_url is not None
    db = Database(settings.database_url, pool_size=connections, max_overflow=connections)
    try:
        yield db
    finally:
        await db.dispose()


@pytest.fixture
async def database(settings: Settings) -> AsyncIterator[Database]:
    async with pooled_database(settings, 5) as db:
        yield db
