"""Memory of an idle ``tocsin serve``: resident set size after start-up and a little use.

Starts ``tocsin serve`` on the embedded PostgreSQL (or on TOCSIN_DATABASE_URL when set) in a
temporary data folder, waits for /readyz, makes a few requests (so the pages, the API and
the pool are warm), lets it idle, then samples the RSS of the tocsin process. PostgreSQL's
own processes are reported separately: they are a different program.

    python bench/idle_memory.py [--idle-seconds 20]
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import psutil

TARGET_MB = 150


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--idle-seconds", type=float, default=20.0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="tocsin-bench-") as folder:
        port = free_port()
        env = {
            **os.environ,
            "TOCSIN_DATA_DIR": str(Path(folder) / "data"),
            "TOCSIN_LOG_LEVEL": "warning",
        }
        server = subprocess.Popen(
            [sys.executable, "-m", "tocsin", "serve", "--port", str(port)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        base = f"http://127.0.0.1:{port}"
        try:
            started = time.monotonic()
            while True:
                try:
                    if httpx.get(f"{base}/readyz", timeout=2).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                if server.poll() is not None or time.monotonic() - started > 120:
                    raise SystemExit("tocsin serve did not start")
                time.sleep(0.2)
            ready_after = time.monotonic() - started
            for path in (
                "/healthz",
                "/readyz",
                "/login",
                "/docs",
                "/openapi.json",
                "/api/v1/users",
                "/metrics",
            ):
                httpx.get(base + path, timeout=10)
            time.sleep(args.idle_seconds)
            process = psutil.Process(server.pid)
            samples = []
            for _ in range(5):
                samples.append(process.memory_info().rss)
                time.sleep(0.5)
            postmasters = [
                candidate
                for candidate in psutil.process_iter(["name", "cmdline"])
                if candidate.info["name"] == "postgres"
                and folder in " ".join(candidate.info["cmdline"] or [])
            ]
            postgres = sum(
                member.memory_info().rss
                for postmaster in postmasters
                for member in [postmaster, *postmaster.children()]
            )
        finally:
            server.send_signal(signal.SIGTERM)
            server.wait(timeout=60)
    rss_mb = max(samples) / 2**20
    print(f"ready after          {ready_after:6.1f} s")
    print(
        f"tocsin serve RSS     {rss_mb:6.1f} MB  "
        f"(max of 5 samples after {args.idle_seconds:.0f} s idle; target < {TARGET_MB} MB)"
    )
    print(
        f"embedded PostgreSQL  {postgres / 2**20:6.1f} MB  "
        "(all its processes; shared pages counted in each)"
    )
    print("PASS" if rss_mb < TARGET_MB else "OVER TARGET")


if __name__ == "__main__":
    main()
