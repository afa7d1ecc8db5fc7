"""``GET /events``: the Server-Sent Events stream of one tab, and the open-incident count.

A tab opens one stream (``static/live.js``); each event names an incident that changed and
how (``kind``), never its content: the tab re-fetches the part of the page it shows, with
the viewer's own session, so what it sees is what the page would show on a reload. The
stream starts with ``retry:`` (how soon EventSource reconnects) and sends a comment every
``KEEP_ALIVE_SECONDS`` so proxies keep an idle stream open and a vanished client is
noticed. No database connection is held while streaming: the viewer is checked, and the
session closed, before the first byte.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, StreamingResponse

from tocsin.domain.access import Principal
from tocsin.web.live.hub import Message, Subscriber
from tocsin.web.live.listener import LiveUpdates
from tocsin.web.pages import PageActor

router = APIRouter(include_in_schema=False)

KEEP_ALIVE_SECONDS = 15.0
RETRY_MILLISECONDS = 2000


def live_of(request: Request) -> LiveUpdates:
    live: LiveUpdates = request.app.state.live
    return live


@router.get("/events")
async def events(request: Request, signed_in: PageActor) -> StreamingResponse:
    live = live_of(request)
    live.start()
    return StreamingResponse(
        _stream(live, signed_in.actor.principal),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )


@router.get("/live/open-count")
async def open_count(signed_in: PageActor) -> JSONResponse:
    """The nav's count, for a tab told that one of its teams' incidents changed."""
    return JSONResponse({"open": signed_in.open_count}, headers={"Cache-Control": "no-store"})


async def _stream(live: LiveUpdates, principal: Principal) -> AsyncIterator[bytes]:
    with live.hub.subscribe(principal) as subscriber:
        yield f"retry: {RETRY_MILLISECONDS}\n: connected\n\n".encode()
        async for chunk in _events_of(subscriber):
            yield chunk


async def _events_of(subscriber: Subscriber) -> AsyncIterator[bytes]:
    while True:
        message = await subscriber.next(KEEP_ALIVE_SECONDS)
        if subscriber.dropped:
            # Too slow to keep up: end the stream; EventSource reconnects and the tab
            # re-fetches everything it shows.
            return
        yield b": keep-alive\n\n" if message is None else encode(message)


def encode(message: Message) -> bytes:
    data = json.dumps(
        {"incident": str(message.incident_id), "kind": message.kind, "mine": message.mine}
    )
    return f"event: incident\ndata: {data}\n\n".encode()
