"""LISTEN on a PostgreSQL channel for as long as the process runs, through outages.

The engine (woken by ``tocsin_engine``) and the live pages (``tocsin_live``) each keep one
connection of their own, outside the pool: a LISTEN lives on its connection, and a pooled
one would be handed to a request. When it is lost, it is opened again with a jittered
backoff, or as soon as the database is seen back after an outage; ``on_listening`` runs
each time it is (again) listening, because what was notified meanwhile was never heard.
An outage is logged once, by the database's availability, not once per retry.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

import psycopg
import structlog

from tocsin.db.availability import backoff
from tocsin.db.session import Database

log = structlog.get_logger(__name__)

BACKOFF_FIRST = 0.5
BACKOFF_CEILING = 30.0


async def listen_forever(
    database: Database,
    channel: str,
    *,
    on_listening: Callable[[], None],
    on_notify: Callable[[str], None],
    on_lost: Callable[[], None] = lambda: None,
    name: str,
) -> None:
    """Call ``on_notify`` with each payload on ``channel`` until cancelled. ``name`` says
    whose connection it is in the log."""
    availability = database.availability
    failures = 0
    while True:
        started = time.monotonic()
        try:
            async with await psycopg.AsyncConnection.connect(
                database.conninfo, autocommit=True
            ) as conn:
                await conn.execute(f"LISTEN {channel}")
                failures = 0
                availability.succeeded(started)
                on_listening()
                async for notify in conn.notifies():
                    on_notify(notify.payload)
        except asyncio.CancelledError:
            raise
        except Exception as error:
            if not availability.failed(error):
                log.warning(f"{name} listen connection lost", error=repr(error))
        on_lost()
        failures += 1
        delay = backoff(failures - 1, first=BACKOFF_FIRST, ceiling=BACKOFF_CEILING)
        if availability.up:
            await asyncio.sleep(delay)
        else:
            await availability.wait_until_up(delay)
