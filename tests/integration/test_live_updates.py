"""Live pages end to end below the browser: the triggers NOTIFY on commit, the process's
one listener fans out, and ``GET /events`` streams it to a signed-in tab over real HTTP."""

from __future__ import annotations

import asyncio
import json
import re
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import httpx
import psutil
import pytest
import sqlalchemy as sa
import uvicorn
from fastapi import FastAPI

from tests.builders import Seed
from tests.conftest import cloned_database
from tests.live_server import free_port, running_tocsin
from tests.web.support import csrf_token
from tocsin.actions import principals
from tocsin.actions.identity import logins
from tocsin.clock import FrozenClock
from tocsin.db.models.services import Service
from tocsin.db.models.users import User
from tocsin.db.models.web_sessions import WebSession
from tocsin.domain.access import Principal, Scope, TeamRole
from tocsin.http import csrf
from tocsin.security import tokens
from tocsin.web.live.hub import RESYNC, Subscriber
from tocsin.web.live.listener import LiveUpdates
from tocsin.web.routes import live as live_routes


@dataclass(frozen=True)
class Crew:
    ada: User
    service: Service


@pytest.fixture
async def crew(seed: Seed) -> Crew:
    ada = await seed.user("Ada")
    team = await seed.team("Payments", [(ada, TeamRole.RESPONDER)])
    policy = await seed.policy(team, [(5, [ada])])
    return Crew(ada, await seed.service(team, policy, name="payments-api"))


@pytest.fixture
async def live(app: FastAPI) -> AsyncIterator[LiveUpdates]:
    updates: LiveUpdates = app.state.live
    updates.start()
    await asyncio.wait_for(updates.listening.wait(), 10)
    yield updates
    await updates.close()


async def open_incident(api: httpx.AsyncClient, service: Service) -> uuid.UUID:
    created = await api.post(
        "/api/v1/incidents", json={"service_id": str(service.id), "title": "Checkout down"}
    )
    assert created.status_code == 201, created.text
    return uuid.UUID(created.json()["id"])


async def kinds_for(subscriber: Subscriber, incident: uuid.UUID, until: str) -> list[str]:
    """The kinds heard for ``incident`` until ``until`` arrives (resyncs skipped)."""
    heard: list[str] = []
    while until not in heard:
        message = await subscriber.next(5)
        assert message is not None, f"heard only {heard}"
        if message.incident_id == incident:
            heard.append(message.kind)
    return heard


async def test_an_acknowledgement_reaches_a_subscribed_viewer_with_its_timeline(
    seed: Seed, crew: Crew, live: LiveUpdates
) -> None:
    api = await seed.as_user(crew.ada)
    with live.hub.subscribe(await principal_of(seed, crew.ada)) as viewer:
        incident = await open_incident(api, crew.service)
        assert await kinds_for(viewer, incident, "created") == ["created"]
        acked = await api.post(f"/api/v1/incidents/{incident}/acknowledge")
        assert acked.status_code == 200, acked.text
        heard = await kinds_for(viewer, incident, "acknowledged")
        heard += await kinds_for(viewer, incident, "timeline") if "timeline" not in heard else []
        assert {"acknowledged", "timeline"} <= set(heard)


async def test_a_refused_change_sends_nothing(seed: Seed, crew: Crew, live: LiveUpdates) -> None:
    api = await seed.as_user(crew.ada)
    incident = await open_incident(api, crew.service)
    resolved = await api.post(f"/api/v1/incidents/{incident}/resolve", json={})
    assert resolved.status_code == 200, resolved.text
    with live.hub.subscribe(await principal_of(seed, crew.ada)) as viewer:
        # A second resolve loses (409): its transaction rolls back, and NOTIFY with it.
        again = await api.post(f"/api/v1/incidents/{incident}/resolve", json={})
        assert again.status_code == 409, again.text
        assert await viewer.next(0.5) is None


async def test_a_new_alert_is_heard_and_its_repeats_are_not(
    seed: Seed, crew: Crew, live: LiveUpdates, client: httpx.AsyncClient
) -> None:
    _, key = await seed.integration(crew.service)
    alert = {"title": "Disk full", "dedup_key": "disk-full"}
    with live.hub.subscribe(await principal_of(seed, crew.ada)) as viewer:
        assert (await client.post(f"/ingest/{key}", json=alert)).status_code == 202
        first = await viewer.next(5)
        assert first is not None
        assert first.kind in {"created", "timeline"}
        while await viewer.next(0.3) is not None:
            pass
        for _ in range(3):
            assert (await client.post(f"/ingest/{key}", json=alert)).status_code == 202
        # Repeats are most alert traffic and change nothing a page shows.
        assert await viewer.next(0.5) is None


@asynccontextmanager
async def serving(app: FastAPI) -> AsyncIterator[str]:
    """``app`` served by uvicorn on loopback in this event loop: its base URL."""
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, lifespan="off", log_level="warning")
    )
    running = asyncio.create_task(server.serve())
    try:
        while not server.started:  # noqa: ASYNC110 (uvicorn offers no event to wait on)
            await asyncio.sleep(0.02)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await running
        await app.state.live.close()


async def test_the_event_stream_over_http_carries_an_acknowledgement_made_elsewhere(
    app: FastAPI, seed: Seed, crew: Crew
) -> None:
    token = await seed.session_token(crew.ada)
    api = await seed.as_key(Scope.INCIDENTS_WRITE, Scope.INCIDENTS_READ)
    incident = await open_incident(api, crew.service)
    async with serving(app) as base:
        async with (
            httpx.AsyncClient(
                base_url=base, cookies={csrf.SESSION_COOKIE: token}, timeout=10
            ) as tab,
            tab.stream("GET", "/events") as stream,
        ):
            assert stream.status_code == 200
            assert stream.headers["content-type"].startswith("text/event-stream")
            assert stream.headers["cache-control"] == "no-store"
            lines = stream.aiter_lines()
            assert await anext(lines) == "retry: 2000"
            await asyncio.wait_for(app.state.live.listening.wait(), 10)
            acked = await api.post(f"/api/v1/incidents/{incident}/acknowledge")
            assert acked.status_code == 200, acked.text
            events = await asyncio.wait_for(events_until(lines, incident, "acknowledged"), 5)
            assert {"incident": str(incident), "kind": "acknowledged", "mine": True} in events
            assert len(app.state.live.hub) == 1
        # A tab that went away is let go of (its queue with it), not kept until shutdown.
        started = time.monotonic()
        while len(app.state.live.hub) and time.monotonic() - started < 20:  # noqa: ASYNC110
            await asyncio.sleep(0.05)
        assert len(app.state.live.hub) == 0
        async with httpx.AsyncClient(base_url=base) as stranger:
            anonymous = await stranger.get("/events")
        assert anonymous.status_code == 303
        assert anonymous.headers["location"].startswith("/login")


async def test_a_stream_ends_when_its_session_ends_in_another_process(
    app: FastAPI, seed: Seed, crew: Crew, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(live_routes, "RECHECK_SECONDS", 0.3)
    token = await seed.session_token(crew.ada)
    async with (
        serving(app) as base,
        httpx.AsyncClient(base_url=base, cookies={csrf.SESSION_COOKIE: token}, timeout=10) as tab,
        tab.stream("GET", "/events") as stream,
    ):
        lines = stream.aiter_lines()
        assert await anext(lines) == "retry: 2000"
        # Still signed in: the re-checks keep the stream open.
        await asyncio.sleep(1)
        # Signed out elsewhere (another server process): only the session row is gone.
        async with seed.database.transaction() as session:
            await session.execute(
                sa.delete(WebSession).where(WebSession.token_hash == tokens.digest(token))
            )
        # The stream ends (collect returns) at the next re-check...
        rest = await asyncio.wait_for(collect(lines), 5)
        # ...after several that found the session valid and kept it open.
        assert rest.count(": keep-alive") >= 2


async def test_signing_out_ends_the_streams_of_that_session_at_once(
    app: FastAPI, seed: Seed, crew: Crew
) -> None:
    token = await seed.session_token(crew.ada)
    other_token = await seed.session_token(crew.ada)
    async with (
        serving(app) as base,
        httpx.AsyncClient(base_url=base, cookies={csrf.SESSION_COOKIE: token}, timeout=10) as tab,
        httpx.AsyncClient(
            base_url=base, cookies={csrf.SESSION_COOKIE: other_token}, timeout=10
        ) as other_tab,
        tab.stream("GET", "/events") as stream,
        other_tab.stream("GET", "/events") as other_stream,
    ):
        lines = stream.aiter_lines()
        other_lines = other_stream.aiter_lines()
        assert await anext(lines) == "retry: 2000"
        assert await anext(other_lines) == "retry: 2000"
        page = await tab.get("/profile")
        signed_out = await tab.post("/logout", data={"csrf_token": csrf_token(page)})
        assert signed_out.status_code == 303
        await asyncio.wait_for(collect(lines), 5)
        # The same person's other session is not signed out.
        assert app.state.live.hub.ended is False
        assert len(app.state.live.hub) == 1


async def collect(lines: AsyncIterator[str]) -> list[str]:
    return [line async for line in lines]


async def test_the_nav_counts_open_incidents_of_your_teams(seed: Seed, crew: Crew) -> None:
    api = await seed.as_user(crew.ada)
    outsider = await seed.as_user(await seed.user("Olga"))
    assert (await api.get("/live/open-count")).json() == {"open": 0}
    first = await open_incident(api, crew.service)
    await open_incident(api, crew.service)
    assert (await api.get("/live/open-count")).json() == {"open": 2}
    assert (await outsider.get("/live/open-count")).json() == {"open": 0}
    await api.post(f"/api/v1/incidents/{first}/resolve", json={})
    page = await api.get("/incidents", headers={"accept": "text/html"})
    assert "<title>(1) Incidents · tocsin</title>" in page.text
    assert '<span id="open-count" class="count"' in page.text


async def events_until(
    lines: AsyncIterator[str], incident: uuid.UUID, kind: str
) -> list[dict[str, object]]:
    events: list[dict[str, object]] = []
    async for line in lines:
        if line.startswith("data: "):
            event = json.loads(line.removeprefix("data: "))
            events.append(event)
            if event == {"incident": str(incident), "kind": kind, "mine": True}:
                return events
    return events


async def principal_of(seed: Seed, user: User) -> Principal:
    async with seed.database.transaction() as session:
        return await principals.user_principal(session, user)


def test_tocsin_serve_stops_promptly_with_an_event_stream_open(
    server_url: str, template_database: str, tmp_path: Path
) -> None:
    """uvicorn waits for every open response before it exits; an event stream never ends
    by itself, so a stopping server ends them (and the tab reconnects elsewhere)."""
    with (
        cloned_database(server_url, template_database) as url,
        # Plain cookies: httpx, unlike browsers, sends no Secure cookie to http://127.0.0.1.
        running_tocsin(url, tmp_path, extra_env={"TOCSIN_COOKIE_SECURE": "false"}) as live,
        httpx.Client(base_url=live.base_url, timeout=10) as tab,
    ):
        created = live.cli("users", "create", "sam@example.com", "--name", "Sam")
        link = re.search(r"http://\S+(/login/link/\S+)", created.stdout)
        assert link, created.stdout
        confirm = tab.get(link.group(1))
        tab.post(link.group(1), data={"csrf_token": csrf_token(confirm)})
        with tab.stream("GET", "/events") as stream:
            assert stream.status_code == 200
            lines = stream.iter_lines()
            assert next(lines) == "retry: 2000"
            port = live.base_url.rsplit(":", 1)[1]
            server = next(
                process for process in psutil.Process().children() if port in process.cmdline()
            )
            started = time.monotonic()
            server.terminate()
            # The stream ends (the server closed it) instead of hanging the shutdown.
            rest = list(lines)
            assert ": keep-alive" not in rest
            server.wait(timeout=15)
            assert time.monotonic() - started < 10


async def test_the_listener_reconnects_after_losing_its_connection_and_tabs_resync(
    seed: Seed, crew: Crew, live: LiveUpdates
) -> None:
    api = await seed.as_user(crew.ada)
    with live.hub.subscribe(await principal_of(seed, crew.ada)) as viewer:
        async with seed.database.transaction() as session:
            killed = await session.scalar(
                sa.text(
                    "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
                    " WHERE datname = current_database() AND query = 'LISTEN tocsin_live'"
                )
            )
        assert killed == 1
        # Changes made while nobody listened were never heard: every tab re-fetches.
        assert await viewer.next(10) == RESYNC
        incident = await open_incident(api, crew.service)
        assert await kinds_for(viewer, incident, "created") == ["created"]


async def test_a_stream_checking_its_session_does_not_keep_it_alive(
    app: FastAPI, seed: Seed, crew: Crew, clock: FrozenClock
) -> None:
    token = await seed.session_token(crew.ada)
    policy = app.state.context.session_policy
    clock.advance(minutes=30)
    async with seed.database.transaction() as session:
        assert await logins.session_user(session, token=token, policy=policy, now=clock.now())
        web_session = await session.scalar(
            sa.select(WebSession).where(WebSession.token_hash == tokens.digest(token))
        )
        assert web_session is not None
        # Unlike a page view, the check does not mark the session used.
        assert web_session.last_seen_at == clock.now() - timedelta(minutes=30)
    # Idle from its last use, however many times a stream checked it meanwhile.
    later = clock.now() - timedelta(minutes=30) + policy.idle
    async with seed.database.transaction() as session:
        assert await logins.session_user(session, token=token, policy=policy, now=later) is None
