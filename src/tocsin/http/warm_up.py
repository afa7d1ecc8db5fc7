"""Build every route's request handling before the first request needs it.

FastAPI prepares a route (its parameters' pydantic validators, its dependencies) the
first time a request is matched against it, and matching walks the routes in order. So
after each start, the first request to a part of the app registered late (a Slack button
press, a Teams card action) paid for preparing every route before it: 200 ms or more on
this project's 2-core machine, with the event loop blocked for the whole process, pages
being sent included. One request for a path that no route matches walks them all.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Scope

_NOWHERE = "/-/warm-up"


async def prepare_routes(app: ASGIApp) -> None:
    """Match one made-up request against every route, past the middleware (which would
    count and log it). Its 404 goes nowhere."""
    scope: Scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": _NOWHERE,
        "raw_path": _NOWHERE.encode(),
        "root_path": "",
        "query_string": b"",
        "headers": [],
        "client": ("127.0.0.1", 0),
        "server": ("127.0.0.1", 0),
    }

    async def receive() -> Message:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: Message) -> None:
        return None

    router = getattr(app, "router", app)
    await router(scope, receive, send)
