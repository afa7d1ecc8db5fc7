"""Raw psycopg access inside a SQLAlchemy transaction, for the few hot statements.

Intake runs a couple of constant statements per alert at up to a thousand alerts a second
on two cores; SQLAlchemy's per-statement work (parameter processing, result metadata,
cache keys) roughly doubles their CPU cost. ``execute`` runs such a statement on the
psycopg connection *underneath* the session's current transaction, so it commits or rolls
back with everything else the session does. Only constant SQL belongs here (written with
psycopg's ``%(name)s`` placeholders); everything else goes through SQLAlchemy.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, LiteralString

from psycopg.rows import TupleRow
from sqlalchemy.ext.asyncio import AsyncSession


async def execute(
    session: AsyncSession, sql: LiteralString, params: Mapping[str, Any]
) -> list[TupleRow]:
    """Run ``sql`` in the session's transaction and return its rows (empty for none)."""
    connection = await session.connection()
    raw = await connection.get_raw_connection()
    driver = raw.driver_connection
    assert driver is not None  # an open, checked-out connection always has one
    cursor = await driver.execute(sql, params)
    return await cursor.fetchall() if cursor.description is not None else []
