"""``tocsin serve`` prepares every route before it serves (``http/warm_up.py``): FastAPI
otherwise prepares a route on the first request matched against it, and the first
request to a late part of the app (a Slack button press) stalled the whole process for
every route before it. Watched through FastAPI's own preparation step, since how long it
takes is not a test's business (the benchmarks time the first press)."""

from __future__ import annotations

import fastapi.routing
import httpx
import pytest
from fastapi import FastAPI

from tocsin.http.warm_up import prepare_routes

# FastAPI's step that prepares one route of an included router, run lazily.
_PREPARE = getattr(
    getattr(fastapi.routing, "_IncludedRouter", None), "_build_effective_context", None
)


@pytest.mark.skipif(_PREPARE is None, reason="this FastAPI prepares routes another way")
async def test_no_request_prepares_a_route_once_they_are_prepared(
    app: FastAPI, monkeypatch: pytest.MonkeyPatch
) -> None:
    prepared: list[object] = []

    def watched(self: object, route: object) -> object:
        prepared.append(route)
        return _PREPARE(self, route)  # type: ignore[misc]

    monkeypatch.setattr(fastapi.routing._IncludedRouter, "_build_effective_context", watched)
    await prepare_routes(app)
    assert len(prepared) > 50  # every route of every included router

    prepared.clear()
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="https://tocsin.test") as client:
        for path in ("/favicon.ico", "/login", "/api/v1/incidents", "/no/such/page"):
            await client.get(path)
    assert prepared == []
