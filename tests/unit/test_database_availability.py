"""How one process tells a database outage from other database errors, and says it once."""

from __future__ import annotations

import asyncio
import time

import psycopg
import psycopg_pool
import pytest
import sqlalchemy.exc
import structlog

from tocsin.db.availability import Availability, backoff, is_unavailable


def _wrapped(error: Exception) -> sqlalchemy.exc.DBAPIError:
    return sqlalchemy.exc.OperationalError("SELECT 1", {}, error)


@pytest.mark.parametrize(
    "error",
    [
        psycopg.OperationalError("connection failed: Connection refused"),
        psycopg.errors.AdminShutdown("terminating connection due to administrator command"),
        psycopg.errors.CannotConnectNow("the database system is starting up"),
        psycopg.errors.TooManyConnections("sorry, too many clients already"),
        psycopg.errors.ReadOnlySqlTransaction("cannot execute INSERT in a read-only transaction"),
        psycopg.InterfaceError("the connection is closed"),
        psycopg_pool.PoolTimeout("couldn't get a connection after 2.00 sec"),
        ConnectionRefusedError(),
    ],
)
def test_connection_failures_mean_unavailable_wrapped_or_not(error: Exception) -> None:
    assert is_unavailable(error)
    assert is_unavailable(_wrapped(error))


@pytest.mark.parametrize(
    "error",
    [
        psycopg.errors.DeadlockDetected("deadlock detected"),
        psycopg.errors.SerializationFailure("could not serialize access"),
        psycopg.errors.UniqueViolation("duplicate key"),
        psycopg.errors.QueryCanceled("canceling statement due to statement timeout"),
        ValueError("a bug"),
        OSError("a file"),
    ],
)
def test_other_errors_say_nothing_about_reachability(error: Exception) -> None:
    assert not is_unavailable(error)


def test_backoff_grows_to_its_ceiling_with_jitter() -> None:
    delays = [backoff(attempt, first=1.0, ceiling=30.0) for attempt in range(10)]
    assert 0.75 <= delays[0] <= 1.25
    assert all(delay <= 30 * 1.25 for delay in delays)
    assert delays[-1] >= 30 * 0.75


async def test_an_outage_is_logged_once_down_and_once_up() -> None:
    probes: list[bool] = []
    back = asyncio.Event()

    async def probe() -> None:
        probes.append(back.is_set())
        if not back.is_set():
            raise psycopg.OperationalError("connection refused")

    availability = Availability(probe)
    with structlog.testing.capture_logs() as logged:
        started_before = time.monotonic()
        for _ in range(50):
            assert availability.failed(psycopg.OperationalError("connection refused"))
        assert not availability.up
        # A transaction that began before the outage was seen does not end it.
        availability.succeeded(started_before)
        assert not availability.up
        assert not await availability.wait_until_up(0.3)
        back.set()
        assert await availability.wait_until_up(10)
    assert [entry["event"] for entry in logged] == [
        "database unreachable",
        "database reachable again",
    ]
    assert probes[-1] is True
    await availability.close()


async def test_a_pool_timeout_with_the_database_answering_is_not_an_outage() -> None:
    async def probe() -> None:
        return None

    availability = Availability(probe)
    with structlog.testing.capture_logs() as logged:
        assert availability.failed(psycopg_pool.PoolTimeout("every connection is in use"))
        await asyncio.sleep(0.1)
    assert availability.up
    assert logged == []
    await availability.close()
