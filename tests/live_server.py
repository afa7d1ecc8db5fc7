"""A real ``tocsin serve`` process on a free port, for tests that talk to it over TCP."""

from __future__ import annotations

import os
import socket
import ssl
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@dataclass(frozen=True)
class Tls:
    """A certificate and key for ``serve --tls-cert/--tls-key``, and the CA that issued it."""

    cert: Path
    key: Path
    ca: Path

    def trusted(self) -> ssl.SSLContext:
        """A client context that trusts the CA (and nothing else)."""
        return ssl.create_default_context(cafile=str(self.ca))


@dataclass(frozen=True)
class LiveServer:
    base_url: str
    env: Mapping[str, str]

    def cli(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "tocsin", *args],
            env=dict(self.env),
            capture_output=True,
            text=True,
            check=True,
            timeout=120,
        )


@contextmanager
def running_tocsin(
    database_url: str,
    data_dir: Path,
    *,
    tls: Tls | None = None,
    extra_env: dict[str, str] | None = None,
) -> Iterator[LiveServer]:
    """Serve on ``database_url`` (HTTPS with ``tls``); on exit, stop it and fail if it
    logged an unhandled error."""
    port = free_port()
    base = f"{'https' if tls else 'http'}://127.0.0.1:{port}"
    env = {
        **os.environ,
        "TOCSIN_DATABASE_URL": database_url,
        "TOCSIN_DATA_DIR": str(data_dir),
        "TOCSIN_LOG_LEVEL": "warning",
        "TOCSIN_PUBLIC_URL": base,
        **(extra_env or {}),
    }
    options = ["--tls-cert", str(tls.cert), "--tls-key", str(tls.key)] if tls else []
    server = subprocess.Popen(
        [sys.executable, "-m", "tocsin", "serve", "--port", str(port), *options],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    verify: ssl.SSLContext | bool = tls.trusted() if tls else True
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{base}/readyz", timeout=2, verify=verify).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert server.poll() is None, "tocsin serve exited early"
            assert time.monotonic() < deadline, "tocsin serve did not become ready"
            time.sleep(0.2)
        yield LiveServer(base, env)
    finally:
        server.terminate()
        _, stderr = server.communicate(timeout=30)
        assert "unhandled error" not in stderr, stderr
