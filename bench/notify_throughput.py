"""Dispatcher throughput: pages turned into mails received by a local SMTP server, per second.

Seeds a team of ``--responders`` people paged together at level 1, opens ``--incidents``
incidents (so incidents times responders pages), then runs the engine (escalation, dispatch,
delivery modules, in the loop ``tocsin worker`` runs) on the real clock and times from its
start until the SMTP server (aiosmtpd on 127.0.0.1) has received every mail. Bundling is
off: every page is its own mail. Target: 300 mails/s.

    python -m bench.notify_throughput [--incidents 100] [--responders 30]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import socket
import time

import httpx

from bench import _notify
from tocsin.app import create_app
from tocsin.clock import SystemClock
from tocsin.config import Settings
from tocsin.db.session import Database
from tocsin.engine.loop import Engine, default_modules
from tocsin.metrics import Metrics
from tocsin.notify import notifier as notify

TARGET = 300.0


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


async def run(url: str, port: int, inbox: _notify.Inbox, incidents: int, responders: int) -> None:
    key = await _notify.seed(url, responders=responders)
    clock = SystemClock()
    database = Database(url, pool_size=20, max_overflow=20)
    settings = Settings(
        database_url=url,
        smtp_host="127.0.0.1",
        smtp_port=port,
        smtp_security="none",
        notify_bundle_threshold=0,
        public_url="https://tocsin.example",
    )
    try:
        # Incidents are opened the way monitoring opens them: alerts through the intake.
        app = create_app(settings=settings, clock=clock, database=database, secret=_notify.SECRET)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
            for number in range(incidents):
                body = {"title": f"Incident {number}", "dedup_key": f"bench-{number}"}
                answer = await client.post(f"/ingest/{key}", json=body)
                assert answer.status_code == 202, answer.text
        metrics = Metrics()
        modules = default_modules(metrics, notify.build(settings, database, clock))
        engine = Engine(database, clock, metrics, modules=modules, batch_size=500)
        expected = incidents * responders
        stopping = asyncio.Event()
        started = time.monotonic()
        # The engine's own loop, as ``tocsin worker`` runs it: it ticks again at once while
        # a batch was full, and sleeps until woken otherwise.
        running = asyncio.create_task(engine.run(stopping))
        while inbox.count < expected:
            await asyncio.sleep(0.01)
            if time.monotonic() - started > 300:
                raise SystemExit(f"only {inbox.count} of {expected} mails after 300 s")
        elapsed = time.monotonic() - started
        stopping.set()
        await running
        rate = expected / elapsed
        verdict = "ok" if rate >= TARGET else "BELOW TARGET"
        print(f"mails: {expected} ({incidents} incidents x {responders} people)")
        print(f"time: {elapsed:.2f} s")
        print(f"throughput: {rate:.0f} mails/s (target {TARGET:.0f}): {verdict}")
        print(f"machine: {platform.machine()}, {os.cpu_count()} cpus, {platform.python_version()}")
    finally:
        await database.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--incidents", type=int, default=100)
    parser.add_argument("--responders", type=int, default=30)
    args = parser.parse_args()
    port = free_port()
    with _notify.fresh_database() as url, _notify.smtp_server(port) as inbox:
        asyncio.run(run(url, port, inbox, args.incidents, args.responders))


if __name__ == "__main__":
    main()
