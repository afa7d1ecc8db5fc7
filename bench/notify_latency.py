"""Time from an accepted alert (HTTP 202) to the SMTP server receiving its page.

Starts ``tocsin serve`` (API and engine in one process, as a newcomer runs it) on a fresh
database with SMTP pointed at a local sink (aiosmtpd in a process of its own), seeds one
person on call for one service, then sends ``--rate`` new alerts per second for
``--seconds`` (open loop: each on its own schedule, whatever the answers). Each alert
opens an incident whose page is one mail; the latency of an alert is the mail's arrival
minus the moment its 202 came back. Bundling is off (with it, the fifth page onwards of
one person for one service waits for a digest, by design). Target: p99 < 500 ms at 50/s.

    python -m bench.notify_latency [--rate 50] [--seconds 10]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

from bench import _notify

TARGET_P99 = 0.5


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


async def load(base: str, key: str, rate: float, seconds: float) -> dict[str, float]:
    accepted: dict[str, float] = {}
    total = int(rate * seconds)
    start = time.monotonic()
    async with httpx.AsyncClient(base_url=base, timeout=30) as client:

        async def one(number: int) -> None:
            await asyncio.sleep(max(0.0, start + number / rate - time.monotonic()))
            title = f"Latency probe {number:06d}"
            body = {"title": title, "dedup_key": f"probe-{number}", "severity": "critical"}
            answer = await client.post(f"/ingest/{key}", json=body)
            if answer.status_code != 202:
                raise SystemExit(f"alert {number}: {answer.status_code} {answer.text}")
            accepted[title] = time.monotonic()

        await asyncio.gather(*(one(number) for number in range(total)))
    return accepted


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=float, default=50.0)
    parser.add_argument("--seconds", type=float, default=10.0)
    args = parser.parse_args()
    smtp_port, http_port = free_port(), free_port()
    with (
        _notify.fresh_database() as url,
        _notify.smtp_server(smtp_port) as inbox,
        tempfile.TemporaryDirectory(prefix="tocsin-bench-") as folder,
    ):
        key = asyncio.run(_notify.seed(url, responders=1))
        env = {
            **os.environ,
            "TOCSIN_DATABASE_URL": url,
            "TOCSIN_DATA_DIR": str(Path(folder) / "data"),
            "TOCSIN_LOG_LEVEL": "warning",
            "TOCSIN_SMTP_HOST": "127.0.0.1",
            "TOCSIN_SMTP_PORT": str(smtp_port),
            "TOCSIN_SMTP_SECURITY": "none",
            "TOCSIN_NOTIFY_BUNDLE_THRESHOLD": "0",
            "TOCSIN_INGEST_RATE_PER_MINUTE": "0",
        }
        server = subprocess.Popen(
            [sys.executable, "-m", "tocsin", "serve", "--port", str(http_port)],
            env=env,
            stdout=subprocess.DEVNULL,
        )
        base = f"http://127.0.0.1:{http_port}"
        try:
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                try:
                    if httpx.get(f"{base}/readyz", timeout=1).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                time.sleep(0.2)
            accepted = asyncio.run(load(base, key, args.rate, args.seconds))
            wait_until = time.monotonic() + 120
            while inbox.count < len(accepted) and time.monotonic() < wait_until:
                time.sleep(0.1)
        finally:
            server.terminate()
            server.wait(timeout=30)
        latencies = [
            inbox.arrivals[f"[CRITICAL] payments-api: {title}"] - at
            for title, at in accepted.items()
            if f"[CRITICAL] payments-api: {title}" in inbox.arrivals
        ]
        lost = len(accepted) - len(latencies)
        p50 = _notify.percentile(latencies, 0.50) * 1000
        p99 = _notify.percentile(latencies, 0.99) * 1000
        worst = max(latencies) * 1000
        verdict = "ok" if p99 < TARGET_P99 * 1000 else "MISSED"
        print(f"alerts: {len(accepted)} at {args.rate:g}/s for {args.seconds:g} s")
        print(f"mails received: {len(latencies)}, missing: {lost}")
        print(f"accepted -> received: p50 {p50:.0f} ms, p99 {p99:.0f} ms, max {worst:.0f} ms")
        print(f"target p99 < {TARGET_P99 * 1000:.0f} ms: {verdict}")
        print(f"machine: {platform.machine()}, {os.cpu_count()} cpus, {platform.python_version()}")


if __name__ == "__main__":
    main()
