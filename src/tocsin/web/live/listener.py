"""The one LISTEN connection of a server process, feeding the hub.

It is opened when the first tab subscribes (a process nobody watches holds no extra
connection) and kept for the life of the process. Like the engine's, it is
``db/listening.listen_forever``: outside the pool, reconnecting with a jittered backoff,
and during a database outage waiting for ``Availability`` instead of retrying and logging
on its own, so an outage is one line in the log, however many tabs are open. On every
(re)connection every tab is told to re-fetch, since changes made while nobody listened
were never heard.
"""

from __future__ import annotations

import asyncio

from starlette.requests import HTTPConnection

from tocsin.db import listening
from tocsin.db.session import Database
from tocsin.web.live import changes
from tocsin.web.live.hub import Hub


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
        await listening.listen_forever(
            self.database,
            changes.LIVE_CHANNEL,
            on_listening=self._listening,
            on_notify=self._notified,
            on_lost=self.listening.clear,
            name="live",
        )

    def _listening(self) -> None:
        self.listening.set()
        # Changes made while nothing listened were never heard: every tab re-fetches.
        self.hub.resync()

    def _notified(self, payload: str) -> None:
        change = changes.parse(payload)
        if change is not None:
            self.hub.publish(change)


def live_of(connection: HTTPConnection) -> LiveUpdates:
    live: LiveUpdates = connection.app.state.live
    return live
