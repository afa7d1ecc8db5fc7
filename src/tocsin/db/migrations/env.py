"""Alembic environment: runs migrations on a synchronous psycopg connection.

An advisory lock serialises concurrent upgrades: two ``tocsin serve`` processes starting at
the same moment must not both try to create the same tables.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import context

from tocsin.db.base import Base
from tocsin.db.models import all_models  # noqa: F401 - registers every table on Base.metadata

MIGRATION_LOCK_KEY = 7_305_851_001  # arbitrary, constant: "tocsin migrations"

config = context.config


def run_migrations_online() -> None:
    engine = sa.create_engine(config.get_main_option("sqlalchemy.url") or "", poolclass=sa.NullPool)
    with engine.connect() as connection:
        connection.execute(sa.text("SELECT pg_advisory_lock(:key)"), {"key": MIGRATION_LOCK_KEY})
        connection.commit()
        try:
            context.configure(
                connection=connection,
                target_metadata=Base.metadata,
                compare_type=True,
                transaction_per_migration=False,
            )
            with context.begin_transaction():
                context.run_migrations()
        finally:
            connection.execute(
                sa.text("SELECT pg_advisory_unlock(:key)"), {"key": MIGRATION_LOCK_KEY}
            )
            connection.commit()
    engine.dispose()


if context.is_offline_mode():
    raise SystemExit("tocsin migrations run online only: point them at a database")
run_migrations_online()
