"""``GET /events``: the Server-Sent Events stream of one tab, and the open-incident count.

A tab opens one stream (``static/live.js``); each event names an incident that changed and
how (``kind``), never its content: the tab re-fetches the part of the page it shows, with
the viewer's own session, so what it sees is what the page would show on a reload. The
stream starts with ``retry:`` (how soon EventSource reconnects) and sends a comment every
``KEEP_ALIVE_SECONDS`` so proxies keep an idle stream open and a vanished client is
noticed. No database connection is held while streaming: the viewer is checked, and the
session closed, before the first byte; every ``RECHECK_SECONDS`` the stream checks, in a
short transaction, that its session is still valid, and ends if not.
"""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator, Awaitable, Callable

import structlog
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, StreamingResponse

from tocsin.actions import principals
from tocsin.actions.identity import logins
from tocsin.domain.access import Principal
from tocsin.http.context import context_of
from tocsin.security import tokens
from tocsin.web.live.hub import Message, Subscriber
from tocsin.web.live.listener import LiveUpdates, live_of
from tocsin.web.pages import PageActor

log = structlog.get_logger(__name__)

router = APIRouter(include_in_schema=False)

KEEP_ALIVE_SECONDS = 15.0
RETRY_MILLISECONDS = 2000
# How often an open stream checks that its session is still valid (signed out elsewhere,
# expired, deactivated) and re-reads the viewer's teams.
RECHECK_SECONDS = 120.0

Recheck = Callable[[], Awaitable[Principal | None]]


@router.get("/events")
async def events(request: Request, signed_in: PageActor) -> StreamingResponse:
    live = live_of(request)
    live.start()
    context = context_of(request)
    token = signed_in.session_token

    async def recheck() -> Principal | None:
        async with context.database.transaction() as session:
            user = await logins.session_user(
                session, token=token, policy=context.session_policy, now=context.clock.now()
            )
            return None if user is None else await principals.user_principal(session, user)

    return StreamingResponse(
        _stream(live, signed_in.actor.principal, tokens.digest(token), recheck),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )


@router.get("/live/open-count")
async def open_count(signed_in: PageActor) -> JSONResponse:
    """The nav's count, for a tab told that one of its teams' incidents changed."""
    return JSONResponse({"open": signed_in.open_count}, headers={"Cache-Control": "no-store"})


async def _stream(
    live: LiveUpdates, principal: Principal, session_key: str, recheck: Recheck
) -> AsyncIterator[bytes]:
    with live.hub.subscribe(principal, session_key=session_key) as subscriber:
        yield f"retry: {RETRY_MILLISECONDS}\n: connected\n\n".encode()
        async for chunk in _events_of(subscriber, recheck, live):
            yield chunk


async def _events_of(
    subscriber: Subscriber, recheck: Recheck, live: LiveUpdates
) -> AsyncIterator[bytes]:
    checked = time.monotonic()
    while True:
        until_check = checked + RECHECK_SECONDS - time.monotonic()
        message = await subscriber.next(max(0.0, min(KEEP_ALIVE_SECONDS, until_check)))
        if subscriber.dropped:
            # Too slow to keep up, signed out or the server stopping: end the stream;
            # EventSource reconnects and the tab re-fetches everything it shows (or, signed
            # out, is refused and stops).
            return
        if time.monotonic() - checked >= RECHECK_SECONDS:
            try:
                principal = await recheck()
            except Exception as error:
                # The database is away: keep streaming what the listener hears (nothing,
                # until it is back) and check again later; an outage is logged once.
                if not live.database.availability.failed(error):
                    log.warning("live stream could not re-check its session", error=repr(error))
            else:
                if principal is None:
                    return
                subscriber.principal = principal
            checked = time.monotonic()
        yield b": keep-alive\n\n" if message is None else encode(message)


def encode(message: Message) -> bytes:
    data = json.dumps(
        {"incident": str(message.incident_id), "kind": message.kind, "mine": message.mine}
    )
    return f"event: incident\ndata: {data}\n\n".encode()
