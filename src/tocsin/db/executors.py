"""Running constant SQL in whichever transaction the caller holds.

Alert intake's statements run either on a raw psycopg connection (the hot path: new
alerts and repeats, see ``Database.raw_transaction``) or inside a SQLAlchemy session (when
the same request also needs the ORM-based incident actions, e.g. a source that resolves
an alert). ``Executor`` is what intake's code takes, so the statements are written once.
Only constant SQL with ``%(name)s`` placeholders goes through here.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, LiteralString, Protocol

import psycopg
from sqlalchemy.ext.asyncio import AsyncSession

from tocsin.db import driver


class Executor(Protocol):
    async def rows(self, sql: LiteralString, params: Mapping[str, Any]) -> list[tuple[Any, ...]]:
        """Run ``sql`` in the caller's transaction; its rows, or ``[]`` for none."""
        ...


class OnConnection:
    """A raw psycopg connection already inside a transaction."""

    def __init__(self, connection: psycopg.AsyncConnection[Any]) -> None:
        self.connection = connection

    async def rows(self, sql: LiteralString, params: Mapping[str, Any]) -> list[tuple[Any, ...]]:
        cursor = await self.connection.execute(sql, params)
        return list(await cursor.fetchall()) if cursor.description is not None else []


class OnSession:
    """A SQLAlchemy session's transaction (the statement runs on its connection)."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def rows(self, sql: LiteralString, params: Mapping[str, Any]) -> list[tuple[Any, ...]]:
        return list(await driver.execute(self.session, sql, params))
