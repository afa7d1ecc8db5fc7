"""Engine and session factories.

Nothing here runs at import time: the edge (``tocsin serve``, a test fixture, a CLI command)
builds one ``Database`` from a resolved URL and closes it when done. Sessions never commit on
their own; the edge that opened the transaction commits it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from tocsin.config import normalise_database_url


class Database:
    def __init__(self, url: str, *, pool_size: int = 10, max_overflow: int = 10) -> None:
        self.url = normalise_database_url(url)
        self.engine: AsyncEngine = create_async_engine(
            self.url,
            pool_size=pool_size,
            max_overflow=max_overflow,
            # No pre-ping: it costs a round trip on every checkout, on every request. A
            # connection that died (a server restart) fails its next statement instead; the
            # pool discards it and the caller answers 503, which senders retry.
            pool_pre_ping=False,
            # Connections are recycled well before typical server or proxy idle cut-offs.
            pool_recycle=1800,
        )
        self.sessions = async_sessionmaker(self.engine, expire_on_commit=False)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        """One unit of work: commits when the block ends normally, rolls back otherwise."""
        async with self.sessions() as session, session.begin():
            yield session

    async def dispose(self) -> None:
        await self.engine.dispose()
