"""Running constant SQL in whichever transaction the caller holds.

Alert intake's statements run either on a raw psycopg connection (the hot path: new
alerts and repeats, see ``Database.raw_transaction``) or inside a SQLAlchemy session (when
the same request also needs the ORM-based incident actions, e.g. a source that resolves
an alert). ``Executor`` is what intake's code takes, so the statements are written once.
Only constant SQL with ``%(name)s`` placeholders goes through here.

Every text parameter is made storable on the way (``domain/storable.py``): intake binds text
that arrived from outside (the raw body kept in the integration's log, identities, titles),
and a NUL or a lone surrogate in it must be kept replaced, not fail the request.

An executor also remembers what was read through ``read_once`` for as long as its
transaction lasts: under group commit (``db/group_commit.py``) one transaction serves many
requests, and the integration or service they share is read once for all of them.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Hashable, Mapping
from typing import Any, LiteralString, Protocol, TypeVar

import psycopg
from sqlalchemy.ext.asyncio import AsyncSession

from tocsin.db import driver
from tocsin.domain.storable import storable

T = TypeVar("T")


class Executor(Protocol):
    remembered: dict[Hashable, Any]

    async def rows(self, sql: LiteralString, params: Mapping[str, Any]) -> list[tuple[Any, ...]]:
        """Run ``sql`` in the caller's transaction; its rows, or ``[]`` for none."""
        ...


class OnConnection:
    """A raw psycopg connection already inside a transaction."""

    def __init__(self, connection: psycopg.AsyncConnection[Any]) -> None:
        self.connection = connection
        self.remembered: dict[Hashable, Any] = {}

    async def rows(self, sql: LiteralString, params: Mapping[str, Any]) -> list[tuple[Any, ...]]:
        cursor = await self.connection.execute(sql, _storable(params))
        return list(await cursor.fetchall()) if cursor.description is not None else []


class OnSession:
    """A SQLAlchemy session's transaction (the statement runs on its connection)."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session
        self.remembered: dict[Hashable, Any] = {}

    async def rows(self, sql: LiteralString, params: Mapping[str, Any]) -> list[tuple[Any, ...]]:
        return list(await driver.execute(self.session, sql, _storable(params)))


def _storable(params: Mapping[str, Any]) -> dict[str, Any]:
    return {
        name: storable(value) if isinstance(value, str) else value for name, value in params.items()
    }


async def read_once(executor: Executor, key: Hashable, read: Callable[[], Awaitable[T]]) -> T:
    """``read()``'s answer, read at most once in ``executor``'s transaction.

    Only for facts that the transaction itself does not change (an integration's
    settings, a service): a later change by another transaction is seen by the next one.
    """
    if key not in executor.remembered:
        executor.remembered[key] = await read()
    value: T = executor.remembered[key]
    return value
