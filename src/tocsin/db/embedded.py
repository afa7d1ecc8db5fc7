"""The embedded PostgreSQL that tocsin starts when no ``TOCSIN_DATABASE_URL`` is given.

It lives in ``<data_dir>/postgres`` and listens only on a Unix socket inside that folder, so
nothing else on the machine can reach it. pgserver keeps a list of the processes using the
cluster: a second tocsin process on the same data folder reuses the running server instead
of starting another one (PostgreSQL's own ``postmaster.pid`` lock would refuse a second
postmaster anyway, so the files cannot be corrupted), and the last process to leave stops it.
"""

from __future__ import annotations

import contextlib
import json
import warnings
from pathlib import Path
from typing import Any

import psutil
import psycopg
from psycopg import sql

DATABASE_NAME = "tocsin"


class EmbeddedDatabaseError(RuntimeError):
    """Raised when the embedded PostgreSQL cannot be started; the message says why."""


class EmbeddedPostgres:
    def __init__(self, data_dir: Path) -> None:
        self.pgdata = data_dir / "postgres"
        self._server: Any = None

    def start(self) -> str:
        """Start (or join) the server and return a URL for the ``tocsin`` database."""
        # Imported here, not at module level: pgserver locates its binaries and a runtime
        # folder at import, which only the embedded path should pay for (and platformdirs
        # warns there when XDG_RUNTIME_DIR is unset, which is harmless).
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            from pgserver import postgres_server  # noqa: PLC0415

        self.pgdata.parent.mkdir(parents=True, exist_ok=True)
        try:
            # pgserver only forgets a process when it exits cleanly; a tocsin killed with
            # SIGKILL would otherwise stay on its list forever and keep the server from
            # ever being stopped. Prune the dead under pgserver's own inter-process lock.
            with postgres_server.PostgresServer._lock:
                _forget_dead_processes(self.pgdata / ".handle_pids.json")
            self._server = postgres_server.get_server(self.pgdata, cleanup_mode="stop")
        except Exception as error:
            raise EmbeddedDatabaseError(self._explain(error)) from error
        admin_url: str = self._server.get_uri()
        _ensure_database(admin_url, DATABASE_NAME)
        url: str = self._server.get_uri(database=DATABASE_NAME)
        return url

    def stop(self) -> None:
        """Leave the server; it stops when no other tocsin process still uses it."""
        if self._server is not None:
            self._server.cleanup()
            self._server = None

    def _explain(self, error: Exception) -> str:
        log = self.pgdata / "log"
        tail = ""
        if log.exists():
            tail = "\n".join(log.read_text(errors="replace").splitlines()[-15:])
        return (
            f"could not start the embedded PostgreSQL in {self.pgdata}: {error}\n"
            f"Set TOCSIN_DATABASE_URL to use a PostgreSQL server instead, or "
            f"TOCSIN_DATA_DIR to use another folder.\n{tail}"
        ).rstrip()


def _forget_dead_processes(handle_list: Path) -> None:
    if not handle_list.exists():
        return
    try:
        pids = json.loads(handle_list.read_text())
    except (OSError, ValueError):
        pids = []
    alive = [pid for pid in pids if isinstance(pid, int) and psutil.pid_exists(pid)]
    if alive != pids:
        handle_list.write_text(json.dumps(alive))


def _ensure_database(admin_url: str, name: str) -> None:
    with psycopg.connect(admin_url, autocommit=True) as connection:
        exists = connection.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", (name,)
        ).fetchone()
        if exists is None:
            # Another tocsin process may create it between our check and now.
            with contextlib.suppress(psycopg.errors.DuplicateDatabase):
                connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
