"""Fan-out of incident changes to the open tabs of this process.

Each tab (``Subscriber``) gets a bounded queue. ``publish`` never waits: a tab whose queue
is full (a client that stopped reading) is dropped, its stream ends, and its EventSource
reconnects and re-fetches everything, so one slow client can neither grow memory nor
delay the others. A change already waiting in a tab's queue is not queued twice: a storm
of repeat alerts on one incident is one re-fetch per tab, not one per alert.

Who is told what is decided here, from the viewer's principal as it was when the tab
connected: a change is offered only to a viewer allowed to read incidents of its team.
"""

from __future__ import annotations

import asyncio
import uuid
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from tocsin.domain.access import Action, Principal, is_allowed
from tocsin.web.live.changes import Change

QUEUE_LIMIT = 64


@dataclass(frozen=True)
class Message:
    """One event for one tab: ``mine`` says the incident is of one of the viewer's teams
    (what the open-incident count in the nav counts)."""

    incident_id: uuid.UUID
    kind: str
    mine: bool


# Sent to every tab when the listener (re)connects: changes made while it was not
# listening were never heard, so every tab re-fetches what it shows.
RESYNC = Message(uuid.UUID(int=0), "resync", True)


class Subscriber:
    def __init__(
        self, principal: Principal, *, session_key: str = "", limit: int = QUEUE_LIMIT
    ) -> None:
        # Replaced when the stream re-checks its session (``web/routes/live.py``), so a
        # change of teams is heard without reconnecting.
        self.principal = principal
        self.session_key = session_key
        self.limit = limit
        self.dropped = False
        self._queue: deque[Message] = deque()
        self._queued: set[Message] = set()
        self._ready = asyncio.Event()

    def may_see(self, change: Change) -> bool:
        return is_allowed(self.principal, Action.READ_INCIDENTS, team_id=change.team_id)

    def offer(self, message: Message) -> None:
        if self.dropped or message in self._queued:
            return
        if len(self._queue) >= self.limit:
            # Too far behind: let go of everything it holds and end its stream.
            self.end()
            return
        self._queue.append(message)
        self._queued.add(message)
        self._ready.set()

    def end(self) -> None:
        """End this stream now; its EventSource reconnects and re-fetches everything."""
        self.dropped = True
        self._queue.clear()
        self._queued.clear()
        self._ready.set()

    async def next(self, quiet_seconds: float) -> Message | None:
        """The next message, or None after ``quiet_seconds`` of quiet or once dropped."""
        if not self._queue and not self.dropped:
            self._ready.clear()
            try:
                await asyncio.wait_for(self._ready.wait(), quiet_seconds)
            except TimeoutError:
                return None
        if self.dropped or not self._queue:
            return None
        message = self._queue.popleft()
        self._queued.discard(message)
        return message

    @property
    def pending(self) -> int:
        return len(self._queue)


class Hub:
    def __init__(self, *, queue_limit: int = QUEUE_LIMIT) -> None:
        self.queue_limit = queue_limit
        self.ended = False
        self._subscribers: set[Subscriber] = set()

    @contextmanager
    def subscribe(self, principal: Principal, *, session_key: str = "") -> Iterator[Subscriber]:
        subscriber = Subscriber(principal, session_key=session_key, limit=self.queue_limit)
        if self.ended:
            subscriber.end()
        self._subscribers.add(subscriber)
        try:
            yield subscriber
        finally:
            self._subscribers.discard(subscriber)

    def publish(self, change: Change) -> None:
        for subscriber in list(self._subscribers):
            if subscriber.may_see(change):
                mine = subscriber.principal.role_in(change.team_id) is not None
                subscriber.offer(Message(change.incident_id, change.kind, mine))

    def resync(self) -> None:
        for subscriber in list(self._subscribers):
            subscriber.offer(RESYNC)

    def end_session(self, session_key: str) -> None:
        """End the streams of a session signed out in this process (other processes find
        out when their streams re-check the session)."""
        for subscriber in list(self._subscribers):
            if subscriber.session_key == session_key:
                subscriber.end()

    def end_all(self) -> None:
        """End every stream, and any opened from now on: the server is stopping, and
        uvicorn's graceful shutdown waits for every response to finish, which an event
        stream never does by itself."""
        self.ended = True
        for subscriber in list(self._subscribers):
            subscriber.end()

    def __len__(self) -> int:
        return len(self._subscribers)
