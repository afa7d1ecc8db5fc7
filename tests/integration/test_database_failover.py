"""A ``TOCSIN_DATABASE_URL`` listing several hosts (libpq's failover form) is followed by
every kind of connection tocsin makes: sessions, the raw intake pool, and the engine's
own connections (LISTEN, probes).

The first host listed is a port that refuses connections (a primary that went away); the
second is a loopback proxy to the test's server (the one that took over).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
import sqlalchemy as sa

from tests.fakes.tcp_proxy import Target, TcpProxy
from tocsin.config import normalise_database_url
from tocsin.db.session import Database


def test_several_hosts_become_sqlalchemy_host_parameters() -> None:
    url = "postgresql://tocsin:pw@db1:5432,db2:5433/tocsin?target_session_attrs=read-write"
    assert normalise_database_url(url) == (
        "postgresql+psycopg://tocsin:pw@/tocsin?host=db1:5432&host=db2:5433"
        "&target_session_attrs=read-write"
    )
    assert normalise_database_url("postgresql://db1,db2/x") == (
        "postgresql+psycopg:///x?host=db1&host=db2"
    )
    single = "postgresql://tocsin@db1:5432/tocsin?sslmode=require"
    assert normalise_database_url(single) == (
        "postgresql+psycopg://tocsin@db1:5432/tocsin?sslmode=require"
    )


@pytest.fixture
async def gone_and_new(database: Database) -> AsyncIterator[tuple[int, int]]:
    """(a port that refuses, a port that forwards to the test's server)."""
    gone, new = TcpProxy(Target.of(database.conninfo)), TcpProxy(Target.of(database.conninfo))
    refusing = await gone.start()
    await gone.cut()
    forwarding = await new.start()
    yield refusing, forwarding
    await new.close()


async def test_connections_follow_the_host_list_past_one_that_is_gone(
    database: Database, gone_and_new: tuple[int, int]
) -> None:
    refusing, forwarding = gone_and_new
    name = database.engine.url.database
    url = (
        f"postgresql://postgres@127.0.0.1:{refusing},127.0.0.1:{forwarding}/{name}"
        "?target_session_attrs=read-write"
    )
    failover = Database(url, pool_size=1, max_overflow=0, wait=5)
    try:
        assert "host=127.0.0.1,127.0.0.1" in failover.conninfo
        assert f"port={refusing},{forwarding}" in failover.conninfo
        async with failover.transaction() as session:
            assert await session.scalar(sa.text("SELECT current_database()")) == name
        async with failover.raw_transaction() as connection:
            cursor = await connection.execute("SELECT current_database()")
            assert (await cursor.fetchone()) == (name,)
        await asyncio.wait_for(failover.ping(5), 10)
        assert failover.availability.up
    finally:
        await failover.dispose()
