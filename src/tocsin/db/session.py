"""Engine and session factories.

Nothing here runs at import time: the edge (``tocsin serve``, a test fixture, a CLI command)
builds one ``Database`` from a resolved URL and closes it when done. Sessions never commit on
their own; the edge that opened the transaction commits it.

Besides SQLAlchemy's pool, a ``Database`` has a small pool of raw psycopg connections for
alert intake's hot path (``raw_transaction``): a SQLAlchemy async transaction costs about
1.2 ms of CPU on its own, a raw one about 0.4 ms, and intake runs one per alert. A third,
smaller pool serves ``single_statement``: statements that must commit on their own while
the caller holds a connection of the raw pool (intake's shared rate limits).

When PostgreSQL goes away (a restart, a failover), nothing may hang: senders time out after
a few seconds and retry, so a request held longer only turns an outage into a retry storm.
Both pools therefore wait at most ``wait`` seconds for a connection, connecting is bounded
by the same wait, and a connection whose peer vanished without a word (a dropped network
path) is given up by TCP keepalives and ``tcp_user_timeout`` instead of the kernel's
default quarter of an hour. Every transaction reports to ``availability``, which logs an
outage once and wakes the engine when the database is back (``db/availability.py``).
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import psycopg
from psycopg.conninfo import make_conninfo
from psycopg_pool import AsyncConnectionPool
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from tocsin.config import normalise_database_url
from tocsin.db.availability import Availability

DEFAULT_WAIT_SECONDS = 2.0
# Connections for ``single_statement``: each statement holds one for a round trip.
SINGLE_STATEMENT_CONNECTIONS = 4


def connection_options(wait: float) -> dict[str, Any]:
    """libpq options that bound how long connecting, and a silent peer, can take."""
    return {
        # libpq's smallest meaningful value is 2 s (it rounds shorter ones up).
        "connect_timeout": max(2, math.ceil(wait)),
        "keepalives": 1,
        "keepalives_idle": 5,
        "keepalives_interval": 2,
        "keepalives_count": 3,
        # Unacknowledged data for this long means the peer is gone (milliseconds).
        "tcp_user_timeout": 10_000,
    }


def libpq_conninfo(engine: AsyncEngine) -> str:
    """The connection string psycopg takes for the engine's URL: SQLAlchemy's own psycopg
    dialect turns the URL (several ``host=`` included) into psycopg's arguments."""
    _, arguments = engine.dialect.create_connect_args(engine.url)
    # Besides libpq's options the dialect passes Python objects for psycopg (``context``).
    known = {option.keyword.decode() for option in psycopg.pq.Conninfo.get_defaults()}
    return make_conninfo(
        "", **{key: str(value) for key, value in arguments.items() if key in known}
    )


class Database:
    def __init__(
        self,
        url: str,
        *,
        pool_size: int = 10,
        max_overflow: int = 10,
        wait: float = DEFAULT_WAIT_SECONDS,
    ) -> None:
        self.url = normalise_database_url(url)
        self.wait = wait
        options = connection_options(wait)
        self.engine: AsyncEngine = create_async_engine(
            self.url,
            pool_size=pool_size,
            max_overflow=max_overflow,
            pool_timeout=wait,
            connect_args=options,
            # No pre-ping: it costs a round trip on every checkout, on every request. A
            # connection that died (a server restart) fails its next statement instead;
            # SQLAlchemy then discards every connection of the pool, and the caller
            # answers 503, which senders retry.
            pool_pre_ping=False,
            # Connections are recycled well before typical server or proxy idle cut-offs.
            pool_recycle=1800,
        )
        self.sessions = async_sessionmaker(self.engine, expire_on_commit=False)
        # Psycopg's own form of the URL, with the same bounds: the raw pool, the engine's
        # LISTEN connection and anything else that connects without SQLAlchemy.
        self.conninfo = make_conninfo(libpq_conninfo(self.engine), **options)
        # Opened on first use: processes that never take alerts (CLI commands, workers)
        # never hold these connections. ``reconnect_timeout`` is the wait too: the pool
        # retries a failed connection with a growing backoff until then and gives up, so
        # the next request starts a fresh attempt instead of queueing behind a backoff
        # that may outlast the outage by many seconds.
        self._raw = AsyncConnectionPool(
            self.conninfo,
            min_size=1,
            max_size=pool_size + max_overflow,
            max_lifetime=1800,
            timeout=wait,
            reconnect_timeout=wait,
            open=False,
        )
        self._raw_opened = False
        # Its own pool, not the raw one: its callers already hold a raw connection (a
        # group-commit lane in its transaction), and with every raw connection held by a
        # caller waiting for a second one, none would ever come back. Nothing waits for
        # anything while holding one of these, so a few suffice.
        self._single = AsyncConnectionPool(
            self.conninfo,
            min_size=1,
            max_size=SINGLE_STATEMENT_CONNECTIONS,
            max_lifetime=1800,
            timeout=wait,
            reconnect_timeout=wait,
            kwargs={"autocommit": True},
            open=False,
        )
        self._single_opened = False
        self.availability = Availability(self._probe)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        """One unit of work: commits when the block ends normally, rolls back otherwise."""
        started = time.monotonic()
        try:
            async with self.sessions() as session, session.begin():
                yield session
        except BaseException as error:
            self.availability.failed(error)
            raise
        self.availability.succeeded(started)

    @asynccontextmanager
    async def raw_transaction(self) -> AsyncIterator[psycopg.AsyncConnection[Any]]:
        """A raw psycopg connection in one transaction: commits when the block ends
        normally, rolls back otherwise."""
        if not self._raw_opened:
            self._raw_opened = True
            await self._raw.open()
        started = time.monotonic()
        try:
            async with self._raw.connection() as connection, connection.transaction():
                yield connection
        except BaseException as error:
            self.availability.failed(error)
            raise
        self.availability.succeeded(started)

    @asynccontextmanager
    async def single_statement(self) -> AsyncIterator[psycopg.AsyncConnection[Any]]:
        """A raw psycopg connection in autocommit mode: each statement on it commits by
        itself, whatever transaction the caller is in elsewhere."""
        if not self._single_opened:
            self._single_opened = True
            await self._single.open()
        started = time.monotonic()
        try:
            async with self._single.connection() as connection:
                yield connection
        except BaseException as error:
            self.availability.failed(error)
            raise
        self.availability.succeeded(started)

    async def ping(self, within: float) -> None:
        """One round trip on a connection of its own, within ``within`` seconds; raises
        when the database does not answer."""
        async with asyncio.timeout(within):
            connection = await psycopg.AsyncConnection.connect(self.conninfo, autocommit=True)
            async with connection:
                await connection.execute("SELECT 1")

    async def _probe(self) -> None:
        await self.ping(self.wait)
        # Back: connections the raw pool kept through the outage are dead; check them now
        # rather than fail the requests that would draw them. SQLAlchemy's pool discarded
        # its own when the first one failed.
        if self._raw_opened:
            await self._raw.check()
        if self._single_opened:
            await self._single.check()

    async def dispose(self) -> None:
        await self.availability.close()
        await self.engine.dispose()
        if self._raw_opened:
            await self._raw.close()
        if self._single_opened:
            await self._single.close()
