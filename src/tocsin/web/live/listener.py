"""The one LISTEN connection of a server process, feeding the hub.

It is opened when the first tab subscribes (a process nobody watches holds no extra
connection) and kept for the life of the process. Like the engine's (``engine/loop.py``)
it lives outside the pool, reconnects with a jittered backoff, and during a database
outage waits for ``Availability`` instead of retrying and logging on its own: an outage is
one line in the log, however many tabs are open. On every (re)connection every tab is
told to re-fetch, since changes made while nobody listened were never heard.
"""

from __future__ import annotations

import asyncio
import time

import psycopg
import structlog
from starlette.requests import HTTPConnection

from tocsin.db.availability import backoff
from tocsin.db.session import Database
from tocsin.web.live import changes
from tocsin.web.live.hub import Hub

log = structlog.get_logger(__name__)

BACKOFF_FIRST = 0.5
BACKOFF_CEILING = 30.0


class LiveUpdates:
    """The hub and its listener, one per app (``create_app``)."""

    def __init__(self, database: Database, hub: Hub | None = None) -> None:
        self.database = database
        self.hub = hub or Hub()
        self._task: asyncio.Task[None] | None = None
        self.listening = asyncio.Event()

    def start(self) -> None:
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._listen(), name="live-listener")

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None

    async def _listen(self) -> None:
        availability = self.database.availability
        failures = 0
        while True:
            started = time.monotonic()
            try:
                async with await psycopg.AsyncConnection.connect(
                    self.database.conninfo, autocommit=True
                ) as conn:
                    await conn.execute(f"LISTEN {changes.LIVE_CHANNEL}")
                    failures = 0
                    availability.succeeded(started)
                    self.listening.set()
                    self.hub.resync()
                    async for notify in conn.notifies():
                        change = changes.parse(notify.payload)
                        if change is not None:
                            self.hub.publish(change)
            except asyncio.CancelledError:
                raise
            except Exception as error:
                if not availability.failed(error):
                    log.warning("live listen connection lost", error=repr(error))
            self.listening.clear()
            failures += 1
            delay = backoff(failures - 1, first=BACKOFF_FIRST, ceiling=BACKOFF_CEILING)
            if availability.up:
                await asyncio.sleep(delay)
            else:
                await availability.wait_until_up(delay)


def live_of(connection: HTTPConnection) -> LiveUpdates:
    live: LiveUpdates = connection.app.state.live
    return live
