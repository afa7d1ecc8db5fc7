"""What the commands share: settings, the database for one command, errors as messages."""

from __future__ import annotations

import asyncio
import gc
import sys
from collections.abc import Awaitable, Callable, Coroutine, Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, TypeVar

import typer
from pydantic import ValidationError
from rich.console import Console
from rich.table import Column, Table
from sqlalchemy.ext.asyncio import AsyncSession

from tocsin import logs
from tocsin.clock import SystemClock
from tocsin.config import Settings
from tocsin.db import migrate
from tocsin.db.embedded import EmbeddedDatabaseError
from tocsin.db.session import Database
from tocsin.errors import TocsinError
from tocsin.runtime import database_url

if sys.platform != "win32":
    import uvloop  # a dependency everywhere but Windows

T = TypeVar("T")

console = Console()
errors = Console(stderr=True)
clock = SystemClock()


def print_listing(headers: Sequence[str], rows: Iterable[Sequence[str]]) -> None:
    """A table for people at a terminal; tab-separated lines for pipes and scripts, so
    that ids and emails are never cut or wrapped where a program reads them."""
    if console.is_terminal:
        listing = Table(*(Column(header, overflow="fold") for header in headers))
        for row in rows:
            listing.add_row(*row)
        console.print(listing)
        return
    for line in [headers, *rows]:
        print("\t".join(line))


def load_settings(**overrides: Any) -> Settings:
    """``TOCSIN_*`` settings, with a command's options (``overrides``) taking precedence.

    Options are validated with the environment, as one set, so a rule spanning both (a
    certificate given by option and its key by variable) holds either way. An invalid
    value is a message naming the variable, and exit 2 like any bad option.
    """
    try:
        settings = Settings(**overrides)
    except ValidationError as error:
        for problem in error.errors():
            field = ".".join(str(part) for part in problem["loc"])
            where = f"TOCSIN_{field.upper()}: " if field else ""
            errors.print(
                f"[red]error:[/red] {where}{problem['msg']}",
                markup=True,
                highlight=False,
                soft_wrap=True,
            )
        raise typer.Exit(2) from error
    logs.configure(settings)
    return settings


@contextmanager
def database_for_command(settings: Settings) -> Iterator[str]:
    try:
        with database_url(settings) as url:
            yield url
    except EmbeddedDatabaseError as error:
        errors.print(f"[red]error:[/red] {error}", markup=True, highlight=False)
        raise typer.Exit(1) from error


def run_service(main: Coroutine[Any, Any, T]) -> T:
    """Run a long-lived service (``serve``, ``worker``) on uvloop where it exists.

    Intake and the engine spend much of their time waiting on sockets; psycopg registers
    and removes a reader on every wait, which uvloop does several times cheaper than the
    standard selector loop (about a tenth of the CPU of a request under load).
    """
    if sys.platform != "win32":
        return uvloop.run(main)
    return asyncio.run(main)


def settle_heap() -> None:
    """Exclude what starting up built from every later garbage collection.

    A long-lived service's heap is mostly modules, classes and functions made at import
    (about 1.5 million objects): a full collection walks all of them, which stalled the
    event loop 115-180 ms every few seconds under load and became the tail of every
    latency (a page sent, a button press answered). Frozen, they are never walked again;
    a full collection then walks only what the service made since, a few milliseconds.
    Called once everything the service imports at start is imported.
    """
    gc.collect()
    gc.freeze()


def run_in_transaction(settings: Settings, work: Callable[[AsyncSession], Awaitable[T]]) -> T:
    """Run ``work`` in one committed transaction; tocsin errors become a message and exit 1."""

    async def run(url: str) -> T:
        database = Database(url, pool_size=1, max_overflow=0)
        try:
            async with database.transaction() as session:
                return await work(session)
        finally:
            await database.dispose()

    with database_for_command(settings) as url:
        migrate.upgrade(url)
        try:
            return asyncio.run(run(url))
        except TocsinError as error:
            errors.print(f"[red]error:[/red] {error.detail}", markup=True, highlight=False)
            raise typer.Exit(1) from error
