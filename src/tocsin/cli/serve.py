"""``tocsin serve`` (API, pages and engine in one process) and ``tocsin worker`` (engine only).

Scaling out means more processes on one database: ``tocsin serve --no-engine`` behind a
load balancer for the API, and any number of ``tocsin worker`` (or engines inside
``serve``); the engine is safe to run many times over (see ``engine/loop.py``).
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import Callable, Generator
from datetime import timedelta
from pathlib import Path

import structlog
import typer
import uvicorn

from tocsin.actions.identity import bootstrap
from tocsin.actions.identity.logins import login_link_url
from tocsin.app import create_app
from tocsin.cli import tls
from tocsin.cli.common import (
    clock,
    console,
    database_for_command,
    load_settings,
    run_service,
    settle_heap,
)
from tocsin.config import Settings
from tocsin.db import migrate
from tocsin.db.session import Database
from tocsin.engine.loop import Engine
from tocsin.http.warm_up import prepare_routes
from tocsin.metrics import Metrics
from tocsin.notify import notifier as notify
from tocsin.security import secret_key
from tocsin.web.live.listener import LiveUpdates

log = structlog.get_logger(__name__)


def serve(
    host: str | None = typer.Option(
        None, help="Address to listen on [default: TOCSIN_HOST or 127.0.0.1]."
    ),
    port: int | None = typer.Option(None, help="Port to listen on [default: TOCSIN_PORT or 8765]."),
    access_log: bool = typer.Option(False, help="Log every HTTP request."),
    engine: bool = typer.Option(True, help="Also run the escalation engine in this process."),
    tls_cert: Path | None = typer.Option(
        None,
        help="Serve HTTPS with this PEM certificate (chain) [default: TOCSIN_TLS_CERT].",
    ),
    tls_key: Path | None = typer.Option(
        None, help="The certificate's PEM private key, unencrypted [default: TOCSIN_TLS_KEY]."
    ),
) -> None:
    """Serve the API and pages. Uses the embedded PostgreSQL unless TOCSIN_DATABASE_URL is set."""
    options = {"host": host, "port": port, "tls_cert": tls_cert, "tls_key": tls_key}
    settings = load_settings(**{key: value for key, value in options.items() if value is not None})
    if settings.tls_cert is not None and settings.tls_key is not None:
        tls.check_files(settings.tls_cert, settings.tls_key)
    with database_for_command(settings) as url:
        if settings.migrate_on_start:
            migrate.upgrade(url)
        run_service(_serve(settings, url, access_log=access_log, with_engine=engine))


def worker() -> None:
    """Run the escalation engine alone (no HTTP). Run as many as you like."""
    settings = load_settings()
    with database_for_command(settings) as url:
        if settings.migrate_on_start:
            migrate.upgrade(url)
        run_service(_work(settings, url))


async def _work(settings: Settings, url: str) -> None:
    database = _database(settings, url)
    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signal_number in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signal_number, stopping.set)
    try:
        notifier = notify.build(settings, database, clock)
        metrics = Metrics()
        metrics.watch_database(database.availability)
        engine = _engine(settings, database, metrics, notifier)
        settle_heap()
        await engine.run(stopping)
    finally:
        await database.dispose()


def _engine(
    settings: Settings, database: Database, metrics: Metrics, notifier: notify.Notifier
) -> Engine:
    return Engine(
        database,
        clock,
        metrics,
        notifier=notifier,
        batch_size=settings.engine_batch_size,
        poll_interval=timedelta(seconds=settings.engine_poll_seconds),
    )


def _database(settings: Settings, url: str) -> Database:
    return Database(
        url,
        pool_size=settings.db_pool_size,
        max_overflow=settings.db_max_overflow,
        wait=settings.db_wait_seconds,
    )


async def _serve(settings: Settings, url: str, *, access_log: bool, with_engine: bool) -> None:
    database = _database(settings, url)
    metrics = Metrics()
    engine_task: asyncio.Task[None] | None = None
    live: LiveUpdates | None = None
    stopping = asyncio.Event()
    try:
        await _welcome_first_admin(settings, database)
        app = create_app(
            settings=settings,
            clock=clock,
            database=database,
            secret=secret_key.load_or_create(settings),
            metrics=metrics,
        )
        live = app.state.live
        await prepare_routes(app)
        if with_engine:
            notifier = notify.build(settings, database, clock)
            engine_task = asyncio.create_task(
                _engine(settings, database, metrics, notifier).run(stopping), name="engine"
            )
        settle_heap()
        config = uvicorn.Config(
            app,
            host=settings.host,
            port=settings.port,
            log_level=settings.log_level,
            access_log=access_log,
            lifespan="off",
            server_header=False,
            ssl_certfile=settings.tls_cert,
            ssl_keyfile=settings.tls_key,
        )
        server = _Server(config)
        _stop_on_signals(server, on_stop=live.hub.end_all)
        log.info(
            "serving",
            url=settings.base_url,
            embedded_database=settings.database_url is None,
            engine=with_engine,
        )
        await server.serve()
    finally:
        stopping.set()
        if live is not None:
            await live.close()
        if engine_task is not None:
            # The engine finishes its current tick (a transaction) and stops.
            await asyncio.gather(engine_task, return_exceptions=True)
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


def _stop_on_signals(server: uvicorn.Server, *, on_stop: Callable[[], None]) -> None:
    loop = asyncio.get_running_loop()

    def stop() -> None:
        if server.should_exit:
            server.force_exit = True  # a second Ctrl-C: stop waiting for open connections
        server.should_exit = True
        # Open event streams never finish by themselves; uvicorn would wait for them.
        on_stop()

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
