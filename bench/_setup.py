"""What the benchmarks share: a fresh database on a PostgreSQL server, seeded through the
real actions, and ``tocsin serve`` processes started on it.

Not a benchmark itself. ``TOCSIN_BENCH_DATABASE_URL`` names the server (default: the
local one at 127.0.0.1:5432); each run creates its own database and drops it after.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import httpx
import psycopg
from psycopg import sql

from tocsin.config import normalise_database_url
from tocsin.db import migrate

SERVER = os.environ.get(
    "TOCSIN_BENCH_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _url_for(name: str) -> str:
    base, _, query = SERVER.partition("?")
    return f"{base.rsplit('/', 1)[0]}/{name}" + (f"?{query}" if query else "")


@contextlib.contextmanager
def fresh_database() -> Iterator[str]:
    name = f"tocsin_bench_{secrets.token_hex(4)}"
    admin = SERVER.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    url = _url_for(name)
    try:
        migrate.upgrade(url)
        yield normalise_database_url(url)
    finally:
        with psycopg.connect(admin, autocommit=True) as connection:
            connection.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )


@dataclass
class Servers:
    base_urls: list[str]
    processes: list[subprocess.Popen[bytes]]


@contextlib.contextmanager
def serve(
    database_url: str,
    data_dir: Path,
    *,
    processes: int = 1,
    extra: Sequence[str] = (),
    env: dict[str, str] | None = None,
    log: Path | None = None,
) -> Iterator[Servers]:
    """``processes`` independent ``tocsin serve`` processes, each on its own port; their
    output (log lines included) appended to ``log`` when given."""
    started = Servers([], [])
    base_env = _environment(database_url, data_dir, env)
    output = log.open("ab") if log is not None else None
    try:
        for _ in range(processes):
            port = free_port()
            process = subprocess.Popen(
                [sys.executable, "-m", "tocsin", "serve", "--port", str(port), *extra],
                env=base_env,
                stdout=output or subprocess.DEVNULL,
                stderr=output,
            )
            started.processes.append(process)
            started.base_urls.append(f"http://127.0.0.1:{port}")
        for base, process in zip(started.base_urls, started.processes, strict=True):
            deadline = time.monotonic() + 60
            while True:
                with contextlib.suppress(httpx.TransportError):
                    if httpx.get(f"{base}/readyz", timeout=2).status_code == 200:
                        break
                if process.poll() is not None or time.monotonic() > deadline:
                    raise SystemExit("tocsin serve did not start")
                time.sleep(0.2)
        yield started
    finally:
        for process in started.processes:
            process.send_signal(signal.SIGTERM)
        for process in started.processes:
            process.wait(timeout=60)
        if output is not None:
            output.close()


@contextlib.contextmanager
def worker(
    database_url: str, data_dir: Path, *, env: dict[str, str] | None = None
) -> Iterator[subprocess.Popen[bytes]]:
    """One ``tocsin worker`` (the engine alone) on the database."""
    process = subprocess.Popen(
        [sys.executable, "-m", "tocsin", "worker"],
        env=_environment(database_url, data_dir, env),
        stdout=subprocess.DEVNULL,
    )
    try:
        yield process
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=60)


def _environment(database_url: str, data_dir: Path, env: dict[str, str] | None) -> dict[str, str]:
    return {
        **os.environ,
        "TOCSIN_DATABASE_URL": database_url,
        "TOCSIN_DATA_DIR": str(data_dir),
        "TOCSIN_LOG_LEVEL": "warning",
        "TOCSIN_INGEST_RATE_PER_MINUTE": "0",
        **(env or {}),
    }


def percentile(values: Sequence[float], fraction: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    index = min(len(ordered) - 1, max(0, round(fraction * (len(ordered) - 1))))
    return ordered[index]
