"""Live pages: how soon an open tab hears of an acknowledgement, and what open tabs cost.

On a fresh database, one ``tocsin serve`` (engine included, mail to the local outbox):

1. **Latency.** A signed-in tab holds ``GET /events`` open. ``--acks`` times: open an
   incident through the API, wait until the tab has heard of it, then acknowledge it
   through the API and time (from just before the POST) until the tab's stream carries the
   ``acknowledged`` event, and until the incident page it then re-fetches has arrived.
   Target: p99 under 200 ms for the page.
2. **Memory.** The server's RSS before and after ``--idle`` more tabs open ``/events``
   and sit idle, and the time from one more acknowledgement until every one of those tabs
   has heard of it.

    python -m bench.live [--acks 200] [--idle 500]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import platform
import tempfile
import time
from datetime import timedelta
from pathlib import Path

import httpx
import psutil
import sqlalchemy as sa

from bench import _setup
from bench._seed import ACTOR, seed_integration
from tocsin.actions.identity import api_keys, logins
from tocsin.clock import SystemClock
from tocsin.db.models.services import Service
from tocsin.db.models.users import User
from tocsin.db.session import Database
from tocsin.domain.access import Scope
from tocsin.http import csrf

SESSION = logins.SessionPolicy(idle=timedelta(hours=1), max_age=timedelta(hours=2))


async def credentials(url: str) -> tuple[str, str, str]:
    """An API key that may respond, a browser session of the first on-call person, and
    the service's id."""
    clock = SystemClock()
    database = Database(url, pool_size=1, max_overflow=0)
    try:
        async with database.transaction() as session:
            now = clock.now()
            key = await api_keys.create_api_key(
                session,
                actor=ACTOR,
                name="bench responder",
                scopes=(Scope.INCIDENTS_READ, Scope.INCIDENTS_WRITE),
                now=now,
            )
            user = await session.scalar(sa.select(User).where(User.email == "oncall0@example.com"))
            assert user is not None
            link = await logins.issue_login_link(
                session, actor=ACTOR, user_id=user.id, ttl=SESSION.max_age, now=now
            )
            outcome = await logins.redeem_login_link(
                session,
                token=link,
                ip_address="127.0.0.1",
                user_agent="bench",
                policy=SESSION,
                now=now,
            )
            assert outcome.token is not None
            service_id = await session.scalar(sa.select(Service.id))
            return key.secret, outcome.token, str(service_id)
    finally:
        await database.dispose()


async def heard(
    stream: asyncio.Queue[tuple[float, dict[str, object]]], incident: str, kind: str
) -> float:
    """When the tab's stream carried ``kind`` for ``incident`` (earlier events dropped)."""
    while True:
        at, event = await asyncio.wait_for(stream.get(), 10)
        if event.get("incident") == incident and event.get("kind") == kind:
            return at


async def read_stream(
    tab: httpx.AsyncClient, into: asyncio.Queue[tuple[float, dict[str, object]]]
) -> None:
    async with tab.stream("GET", "/events") as response:
        assert response.status_code == 200, response.status_code
        async for line in response.aiter_lines():
            if line.startswith("data: "):
                into.put_nowait((time.perf_counter(), json.loads(line[6:])))


async def latency(base: str, key: str, token: str, service: str, acks: int) -> None:
    events: asyncio.Queue[tuple[float, dict[str, object]]] = asyncio.Queue()
    async with (
        httpx.AsyncClient(base_url=base, cookies={csrf.SESSION_COOKIE: token}, timeout=10) as tab,
        httpx.AsyncClient(
            base_url=base, headers={"Authorization": f"Bearer {key}"}, timeout=10
        ) as api,
    ):
        reader = asyncio.create_task(read_stream(tab, events))
        await asyncio.sleep(0.5)
        answered: list[float] = []
        to_event: list[float] = []
        to_page: list[float] = []
        for number in range(acks):
            created = await api.post(
                "/api/v1/incidents", json={"service_id": service, "title": f"bench {number}"}
            )
            assert created.status_code == 201, created.text
            incident = str(created.json()["id"])
            await heard(events, incident, "created")
            # Let the engine's first page and its mail settle, as on a real incident.
            await asyncio.sleep(0.05)
            started = time.perf_counter()
            acked = await api.post(f"/api/v1/incidents/{incident}/acknowledge")
            assert acked.status_code == 200, acked.text
            answered.append((time.perf_counter() - started) * 1000)
            arrived = await heard(events, incident, "acknowledged")
            page = await tab.get(f"/incidents/{incident}")
            assert page.status_code == 200
            assert "acknowledged" in page.text
            to_event.append((arrived - started) * 1000)
            to_page.append((time.perf_counter() - started) * 1000)
        reader.cancel()
    p = _setup.percentile
    print(f"acknowledgements: {acks}")
    print(
        f"  API ack answered:                     p50 {p(answered, 0.5):.1f} ms, "
        f"p99 {p(answered, 0.99):.1f} ms, max {max(answered):.1f} ms"
    )
    print(
        f"  API ack -> event on the tab's stream: p50 {p(to_event, 0.5):.1f} ms, "
        f"p99 {p(to_event, 0.99):.1f} ms, max {max(to_event):.1f} ms"
    )
    print(
        f"  API ack -> incident page re-fetched:  p50 {p(to_page, 0.5):.1f} ms, "
        f"p99 {p(to_page, 0.99):.1f} ms, max {max(to_page):.1f} ms (target p99 < 200 ms)"
    )


async def idle_tab(port: int, token: str, opened: asyncio.Event, needle: bytes) -> float:
    """One raw idle SSE connection; returns when ``needle`` arrives on it."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(
        f"GET /events HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n"
        f"Cookie: {csrf.SESSION_COOKIE}={token}\r\n\r\n".encode()
    )
    await writer.drain()
    received = b""
    while b"retry:" not in received:
        received += await reader.read(4096)
    opened.set()
    received = b""
    try:
        while needle not in received:
            chunk = await reader.read(4096)
            if not chunk:
                raise SystemExit("an idle tab's stream ended")
            received = received[-512:] + chunk
        return time.perf_counter()
    finally:
        writer.close()


async def memory(base: str, pid: int, key: str, token: str, service: str, idle: int) -> None:
    process = psutil.Process(pid)
    await asyncio.sleep(2)
    before = process.memory_info().rss
    port = int(base.rsplit(":", 1)[1])
    async with httpx.AsyncClient(
        base_url=base, headers={"Authorization": f"Bearer {key}"}, timeout=10
    ) as api:
        created = await api.post(
            "/api/v1/incidents", json={"service_id": service, "title": "bench fan-out"}
        )
        incident = str(created.json()["id"])
        needle = f'"incident": "{incident}", "kind": "acknowledged"'.encode()
        tabs = []
        started_opening = time.perf_counter()
        for batch in range(0, idle, 50):
            opened = [asyncio.Event() for _ in range(min(50, idle - batch))]
            tabs += [asyncio.create_task(idle_tab(port, token, event, needle)) for event in opened]
            await asyncio.wait_for(asyncio.gather(*(event.wait() for event in opened)), 60)
        opening = time.perf_counter() - started_opening
        await asyncio.sleep(5)
        with_tabs = max(process.memory_info().rss for _ in range(3))
        started = time.perf_counter()
        acked = await api.post(f"/api/v1/incidents/{incident}/acknowledge")
        assert acked.status_code == 200, acked.text
        arrivals = await asyncio.wait_for(asyncio.gather(*tabs), 60)
    mb = 1024 * 1024
    print(f"idle SSE connections: {idle} (opened in {opening:.1f} s)")
    print(f"  server RSS before: {before / mb:.1f} MB, with them open: {with_tabs / mb:.1f} MB")
    print(
        f"  added: {(with_tabs - before) / mb:.1f} MB, "
        f"{(with_tabs - before) / idle / 1024:.1f} KB per connection"
    )
    print(
        f"  one acknowledgement -> heard by all {idle}: {(max(arrivals) - started) * 1000:.0f} ms"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--acks", type=int, default=200)
    parser.add_argument("--idle", type=int, default=500)
    args = parser.parse_args()
    cores = psutil.cpu_count()
    print(f"machine: {platform.machine()}, {cores} cores, Python {platform.python_version()}")
    with _setup.fresh_database() as url, tempfile.TemporaryDirectory() as folder:
        asyncio.run(seed_integration(url))
        key, token, service = asyncio.run(credentials(url))
        with _setup.serve(url, Path(folder)) as servers:
            base = servers.base_urls[0]
            asyncio.run(latency(base, key, token, service, args.acks))
            asyncio.run(memory(base, servers.processes[0].pid, key, token, service, args.idle))


if __name__ == "__main__":
    main()
