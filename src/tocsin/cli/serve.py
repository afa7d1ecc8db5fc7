"""``tocsin serve``: the HTTP API and pages (and, from the alert pipeline on, the engine)."""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import Generator
from datetime import timedelta

import structlog
import typer
import uvicorn

from tocsin.actions import bootstrap
from tocsin.api.app import create_app
from tocsin.api.routers.users import login_link_url
from tocsin.cli.common import clock, console, database_for_command, load_settings
from tocsin.config import Settings
from tocsin.db import migrate
from tocsin.db.session import Database
from tocsin.metrics import Metrics
from tocsin.security import secret_key

log = structlog.get_logger(__name__)


def serve(
    host: str | None = typer.Option(
        None, help="Address to listen on [default: TOCSIN_HOST or 127.0.0.1]."
    ),
    port: int | None = typer.Option(None, help="Port to listen on [default: TOCSIN_PORT or 8765]."),
    access_log: bool = typer.Option(False, help="Log every HTTP request."),
) -> None:
    """Serve the API and pages. Uses the embedded PostgreSQL unless TOCSIN_DATABASE_URL is set."""
    overrides = {
        key: value for key, value in {"host": host, "port": port}.items() if value is not None
    }
    settings = load_settings().model_copy(update=overrides)
    with database_for_command(settings) as url:
        if settings.migrate_on_start:
            migrate.upgrade(url)
        asyncio.run(_serve(settings, url, access_log=access_log))


async def _serve(settings: Settings, url: str, *, access_log: bool) -> None:
    database = Database(url, pool_size=settings.db_pool_size, max_overflow=settings.db_max_overflow)
    try:
        await _welcome_first_admin(settings, database)
        app = create_app(
            settings=settings,
            clock=clock,
            database=database,
            secret=secret_key.load_or_create(settings),
            metrics=Metrics(),
        )
        config = uvicorn.Config(
            app,
            host=settings.host,
            port=settings.port,
            log_level=settings.log_level,
            access_log=access_log,
            lifespan="off",
            server_header=False,
        )
        server = _Server(config)
        _stop_on_signals(server)
        log.info("serving", url=settings.base_url, embedded_database=settings.database_url is None)
        await server.serve()
    finally:
        await database.dispose()


class _Server(uvicorn.Server):
    """uvicorn's server without its own signal handling.

    uvicorn re-raises SIGTERM after a graceful shutdown so that the process dies of it;
    that would skip our ``finally`` blocks and leave the embedded PostgreSQL running.
    ``_stop_on_signals`` asks the server to stop instead, and the process exits normally.
    """

    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        yield


def _stop_on_signals(server: uvicorn.Server) -> None:
    loop = asyncio.get_running_loop()

    def stop() -> None:
        if server.should_exit:
            server.force_exit = True  # a second Ctrl-C: stop waiting for open connections
        server.should_exit = True

    for signal_number in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signal_number, stop)


async def _welcome_first_admin(settings: Settings, database: Database) -> None:
    async with database.transaction() as session:
        token = await bootstrap.ensure_first_admin(
            session,
            email=settings.first_admin_email,
            ttl=timedelta(minutes=settings.login_link_minutes),
            now=clock.now(),
        )
    if token is not None:
        console.print(
            "\n[bold]tocsin is ready.[/bold] There were no users, so an admin account "
            f"({settings.first_admin_email}) was created.\n"
            f"Sign in with this one-time link (valid {settings.login_link_minutes} minutes):\n\n"
            f"    {login_link_url(settings.base_url, token)}\n",
            highlight=False,
            soft_wrap=True,
        )
