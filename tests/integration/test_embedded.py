"""`tocsin serve` on the embedded PostgreSQL: start, share, stop, and survive a SIGKILL."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import psutil
import pytest

pytestmark = pytest.mark.slow


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def embedded_env(data_dir: Path) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("TOCSIN_")}
    env["TOCSIN_DATA_DIR"] = str(data_dir)
    return env


def start_serve(data_dir: Path, port: int) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "tocsin", "serve", "--port", str(port)],
        env=embedded_env(data_dir),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def wait_ready(process: subprocess.Popen[str], port: int) -> None:
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        assert process.poll() is None, process.stdout.read() if process.stdout else ""
        try:
            if httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.3)
    raise AssertionError("tocsin serve never became ready")


def postgres_for(data_dir: Path) -> list[psutil.Process]:
    found = []
    for process in psutil.process_iter(["name", "cmdline"]):
        cmdline = process.info["cmdline"] or []
        if process.info["name"] == "postgres" and str(data_dir / "postgres") in cmdline:
            found.append(process)
    return found


def stop(process: subprocess.Popen[str]) -> str:
    process.send_signal(signal.SIGTERM)
    output, _ = process.communicate(timeout=60)
    assert process.returncode == 0, output
    return output


def test_serve_starts_shares_and_stops_the_embedded_database(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    port = free_port()
    server = start_serve(data_dir, port)
    try:
        wait_ready(server, port)
        # A second process on the same data folder joins the running server.
        listed = subprocess.run(
            [sys.executable, "-m", "tocsin", "users", "list"],
            env=embedded_env(data_dir),
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert listed.returncode == 0, listed.stderr
        assert "admin@example.com" in listed.stdout
        assert len(postgres_for(data_dir)) == 1
    finally:
        output = stop(server)
    assert "/login/link/" in output
    assert (data_dir / "secret_key").stat().st_mode & 0o777 == 0o600
    deadline = time.monotonic() + 10
    while postgres_for(data_dir) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert postgres_for(data_dir) == []

    # Restarting keeps the data: no second first-admin, same secret key.
    key = (data_dir / "secret_key").read_text()
    server = start_serve(data_dir, port)
    wait_ready(server, port)
    output = stop(server)
    assert "/login/link/" not in output
    assert (data_dir / "secret_key").read_text() == key


def test_a_killed_server_leaves_a_database_the_next_start_reuses_and_stops(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    port = free_port()
    server = start_serve(data_dir, port)
    wait_ready(server, port)
    server.kill()
    server.communicate(timeout=30)
    assert len(postgres_for(data_dir)) == 1  # orphaned, as after a real crash
    server = start_serve(data_dir, port)
    wait_ready(server, port)
    stop(server)
    deadline = time.monotonic() + 10
    while postgres_for(data_dir) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert postgres_for(data_dir) == []
