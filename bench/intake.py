"""Intake benchmark: PagerDuty Events v2 triggers from concurrent clients, half duplicates.

Two measurements against real ``tocsin serve`` processes on a fresh database:

* **sustained**: ``--clients`` closed-loop clients send as fast as answers come for
  ``--seconds``; reports events/s (target at least 1,000 events/s);
* **latency at a fixed rate**: open-loop sends at ``--rate`` events/s (default 300), each
  on its own schedule whatever the previous answer; reports p50/p99 (target p99 < 100 ms).

Half of the events are new alerts (each opens an incident), half repeat an open alert
(dedup: count + 1). Every answer must be 202. The escalation engine runs in the servers,
as in production (``--no-engine`` to leave it out).

    python bench/intake.py [--processes 2] [--clients 64] [--seconds 20] [--rate 300]
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import platform
import tempfile
import time
from pathlib import Path

import httpx

from bench import _setup
from bench._seed import seed_integration


def event(key: str, sequence: int, duplicate: bool) -> dict[str, object]:
    dedup_key = f"dup-{sequence % 50}" if duplicate else f"new-{sequence}"
    return {
        "routing_key": key,
        "event_action": "trigger",
        "dedup_key": dedup_key,
        "payload": {
            "summary": f"Latency above SLO on checkout ({dedup_key})",
            "source": "checkout-7f9c",
            "severity": "critical",
            "custom_details": {"p99_ms": 812, "region": "eu-west-1"},
        },
    }


async def sustained(
    bases: list[str], key: str, clients: int, seconds: float
) -> tuple[int, list[float]]:
    counter = itertools.count()
    latencies: list[float] = []
    deadline = time.perf_counter() + seconds
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)

    async def client(index: int) -> None:
        base = bases[index % len(bases)]
        async with httpx.AsyncClient(base_url=base, limits=limits, timeout=30) as http:
            while time.perf_counter() < deadline:
                sequence = next(counter)
                started = time.perf_counter()
                response = await http.post(
                    "/v2/enqueue", json=event(key, sequence, sequence % 2 == 1)
                )
                latencies.append(time.perf_counter() - started)
                if response.status_code != 202:
                    raise SystemExit(f"unexpected {response.status_code}: {response.text}")

    await asyncio.gather(*(client(index) for index in range(clients)))
    return len(latencies), latencies


async def at_rate(
    bases: list[str], key: str, rate: float, seconds: float, offset: int
) -> list[float]:
    latencies: list[float] = []
    clients = [
        httpx.AsyncClient(base_url=base, timeout=30, limits=httpx.Limits(max_connections=200))
        for base in bases
    ]
    tasks = []
    start = time.perf_counter()
    total = int(rate * seconds)

    async def one(sequence: int) -> None:
        http = clients[sequence % len(clients)]
        started = time.perf_counter()
        response = await http.post(
            "/v2/enqueue", json=event(key, offset + sequence, sequence % 2 == 1)
        )
        latencies.append(time.perf_counter() - started)
        if response.status_code != 202:
            raise SystemExit(f"unexpected {response.status_code}: {response.text}")

    for sequence in range(total):
        delay = start + sequence / rate - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(one(sequence)))
    await asyncio.gather(*tasks)
    for http in clients:
        await http.aclose()
    return latencies


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--processes", type=int, default=2)
    parser.add_argument("--clients", type=int, default=64)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--rate", type=float, default=300)
    parser.add_argument("--no-engine", action="store_true")
    args = parser.parse_args()
    with _setup.fresh_database() as url, tempfile.TemporaryDirectory() as folder:
        key = asyncio.run(seed_integration(url, kind="pagerduty_events_v2"))
        extra = ["--no-engine"] if args.no_engine else []
        with _setup.serve(url, Path(folder), processes=args.processes, extra=extra) as servers:
            count, latencies = asyncio.run(
                sustained(servers.base_urls, key, args.clients, args.seconds)
            )
            rate_latencies = asyncio.run(
                at_rate(servers.base_urls, key, args.rate, args.seconds, 10_000_000)
            )
    p50, p99 = (_setup.percentile(latencies, q) * 1000 for q in (0.5, 0.99))
    r50, r99 = (_setup.percentile(rate_latencies, q) * 1000 for q in (0.5, 0.99))
    print(f"machine: {platform.machine()}, Python {platform.python_version()}")
    print(f"servers: {args.processes} x tocsin serve{' --no-engine' if args.no_engine else ''}")
    print(
        f"sustained: {count / args.seconds:7.0f} events/s over {args.seconds:.0f} s, "
        f"{args.clients} clients (p50 {p50:.1f} ms, p99 {p99:.1f} ms; target >= 1000/s)"
    )
    print(f"at {args.rate:.0f} events/s: p50 {r50:.1f} ms, p99 {r99:.1f} ms (target p99 < 100 ms)")


if __name__ == "__main__":
    main()
