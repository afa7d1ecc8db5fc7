"""Migrations: they build exactly the schema the models describe, and they go both ways."""

from __future__ import annotations

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from tocsin.config import normalise_database_url
from tocsin.db import migrate
from tocsin.db.base import Base
from tocsin.db.models import all_models  # noqa: F401 - registers every table


def schema_diff(url: str) -> list[object]:
    engine = sa.create_engine(normalise_database_url(url), poolclass=sa.NullPool)
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            return list(compare_metadata(context, Base.metadata))
    finally:
        engine.dispose()


def test_head_matches_the_models(database_url: str) -> None:
    assert schema_diff(database_url) == []


def test_downgrade_to_base_and_back_up(database_url: str) -> None:
    migrate.downgrade(database_url, "base")
    engine = sa.create_engine(normalise_database_url(database_url), poolclass=sa.NullPool)
    with engine.connect() as connection:
        tables = set(sa.inspect(connection).get_table_names()) - {"alembic_version"}
    engine.dispose()
    assert tables == set()
    migrate.upgrade(database_url)
    assert schema_diff(database_url) == []
