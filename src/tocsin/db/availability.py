"""Whether this process can reach PostgreSQL, said once when that changes.

PostgreSQL restarts (a minor upgrade, a managed database's maintenance, a failover) are the
outage every deployment sees. While one lasts, every request, engine module and pool would
otherwise report it on its own: hundreds of tracebacks a second, burying the one line an
operator needs. So every database failure of this process goes through one
``Availability``: the first one that means "unreachable" logs one line and starts a single
prober; everything after it is quiet; the prober, backing off up to ``PROBE_CEILING``,
logs one line when the database answers again, with how long it was gone, and wakes
whoever waits for it (``wait_until_up``: engine lanes, the LISTEN connection), so work that
came due during the outage runs at once, not after someone's backoff.

Only failures of the connection count (``is_unavailable``): a deadlock, a constraint or a
bug in a statement says nothing about reachability.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

import psycopg
import psycopg_pool
import sqlalchemy.exc
import structlog

log = structlog.get_logger(__name__)

# SQLSTATEs that mean the server cannot serve this connection: class 08 (connection
# exception), class 53 (insufficient resources: too many connections, disk full), the
# shutdowns and start-ups of class 57 (not 57014, a statement timeout), and 25006: a write
# on a server that became a standby in a failover. Class 40 (deadlock, serialization) is
# a lost race, not an outage.
_UNAVAILABLE_CLASSES = frozenset({"08", "53"})
_UNAVAILABLE_STATES = frozenset({"57P01", "57P02", "57P03", "25006"})

# The prober's first wait and its ceiling. The ceiling bounds how late recovery is seen
# by processes that have nothing else trying (an idle worker): one cheap connection
# attempt every couple of seconds is no load on a database that is coming back.
PROBE_FIRST = 0.25
PROBE_CEILING = 2.0


def is_unavailable(error: BaseException) -> bool:
    """``error`` (or what it wraps) says the database cannot be reached or used now."""
    return unavailable_cause(error) is not None


def unavailable_cause(error: BaseException) -> BaseException | None:
    """The exception in ``error``'s chain (itself, what a driver error wraps, its cause)
    that says the database cannot be reached, if any."""
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if _means_unavailable(current):
            return current
        if isinstance(current, sqlalchemy.exc.DBAPIError) and current.connection_invalidated:
            return current
        current = getattr(current, "orig", None) or current.__cause__
    return None


def _means_unavailable(error: BaseException) -> bool:
    if _is_pool_timeout(error):
        return True
    if isinstance(error, psycopg.Error):
        sqlstate = error.sqlstate
        if sqlstate is not None:
            return sqlstate[:2] in _UNAVAILABLE_CLASSES or sqlstate in _UNAVAILABLE_STATES
        # No SQLSTATE: the client failed to connect, or lost the connection.
        return isinstance(error, psycopg.OperationalError | psycopg.InterfaceError)
    return isinstance(error, ConnectionError)


def _is_pool_timeout(error: BaseException) -> bool:
    return isinstance(error, psycopg_pool.PoolTimeout | sqlalchemy.exc.TimeoutError)


def backoff(attempt: int, *, first: float, ceiling: float) -> float:
    """Capped exponential backoff with jitter (±25 %), so that processes that lost the
    database together do not come back in step."""
    base = min(ceiling, first * 2 ** max(0, attempt))
    return float(base * random.uniform(0.75, 1.25))  # noqa: S311 - jitter, not secrecy


Probe = Callable[[], Awaitable[None]]


class Availability:
    """This process's view of the database: up until a connection failure says otherwise."""

    def __init__(self, probe: Probe) -> None:
        self._probe = probe
        self.up = True
        self.last_success: float | None = None
        self._down_since: float | None = None
        self._back_at: float | None = None
        self._back = asyncio.Event()
        self._back.set()
        self._prober: asyncio.Task[None] | None = None

    def succeeded(self, started: float) -> None:
        """Something that began at ``started`` (``time.monotonic()``) just worked on the
        database. Only work begun after the outage was seen proves the database is back:
        a transaction that was finishing as the server went down does not."""
        self.last_success = time.monotonic()
        if not self.up and self._down_since is not None and started >= self._down_since:
            self._mark_up()

    def failed(self, error: BaseException) -> bool:
        """Note ``error``; ``True`` when it means the database is unreachable (then the
        caller logs nothing itself: this logs once per outage)."""
        if not is_unavailable(error):
            return False
        if self.up:
            if _is_pool_timeout(error):
                # No connection came free in time: the database may be gone, or only
                # busy (every connection in use), or just back while the pool still
                # waits out its reconnect delay. Only a probe of its own tells.
                self._start_task(self._confirm(error))
            else:
                self._mark_down(error)
                self._start_task(self._probe_until_up())
        return True

    def back_within(self, seconds: float) -> bool:
        """Whether the database came back from an outage less than ``seconds`` ago."""
        return self._back_at is not None and time.monotonic() - self._back_at < seconds

    def seconds_since_success(self) -> float:
        if self.last_success is None:
            return float("nan")
        return time.monotonic() - self.last_success

    async def wait_until_up(self, seconds: float) -> bool:
        """Wait (at most ``seconds``) for the database to be reachable."""
        if self.up:
            return True
        try:
            await asyncio.wait_for(self._back.wait(), seconds)
        except TimeoutError:
            return False
        return True

    async def close(self) -> None:
        if self._prober is not None:
            self._prober.cancel()
            await asyncio.gather(self._prober, return_exceptions=True)
            self._prober = None

    def _mark_down(self, error: BaseException) -> None:
        if not self.up:
            return
        self.up = False
        self._down_since = time.monotonic()
        self._back.clear()
        log.warning("database unreachable", error=_short(unavailable_cause(error) or error))

    async def _confirm(self, error: BaseException) -> None:
        started = time.monotonic()
        try:
            await self._probe()
        except Exception:
            self._mark_down(error)
        else:
            self.succeeded(started)
            return
        await self._probe_until_up()

    def _mark_up(self) -> None:
        self.up = True
        self._back_at = time.monotonic()
        down_for = self._back_at - (self._down_since or self._back_at)
        log.info("database reachable again", down_seconds=round(down_for, 1))
        self._back.set()

    def _start_task(self, work: Coroutine[Any, Any, None]) -> None:
        """Run ``work`` (probing) unless a probe is already running: one at a time."""
        if self._prober is not None and not self._prober.done():
            work.close()
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            work.close()  # a synchronous caller: the next asynchronous success marks it up
            return
        self._prober = loop.create_task(work, name="database-prober")

    async def _probe_until_up(self) -> None:
        attempt = 0
        while not self.up:
            await asyncio.sleep(backoff(attempt, first=PROBE_FIRST, ceiling=PROBE_CEILING))
            attempt += 1
            started = time.monotonic()
            try:
                await self._probe()
            except Exception:  # noqa: S112 - still down: the outage was logged once already
                continue
            self.succeeded(started)


def _short(error: BaseException) -> str:
    text = str(error).strip().splitlines()
    return f"{type(error).__name__}: {text[0] if text else ''}"[:300]
