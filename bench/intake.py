"""Intake benchmark: PagerDuty Events v2 triggers from concurrent clients, half duplicates.

Two measurements against real ``tocsin serve`` processes on a fresh database:

* **sustained**: ``--clients`` closed-loop connections per server send as fast as answers
  come for ``--seconds``; reports events/s (target at least 1,000 events/s). The load comes
  from ``wrk`` (Debian's package, driven by ``bench/wrk/enqueue.lua``) when it is installed:
  a Python client tops out near 600 requests/s on this machine and would measure itself;
* **latency at a fixed rate**: open-loop sends at ``--rate`` events/s (default 300), each
  on its own schedule whatever the previous answer; reports p50/p99 (target p99 < 100 ms).

Half of the events are new alerts (each opens an incident), half repeat an open alert
(dedup: count + 1). Every answer must be 202. Where the escalation engine runs:

* by default inside the servers (``tocsin serve``, the one-command set-up);
* ``--worker``: servers with ``--no-engine`` and one ``tocsin worker`` process beside them
  (the engine escalates and pages the incidents the run opens, in its own process);
* ``--no-engine``: nowhere, intake alone.

    python -m bench.intake [--processes 2] [--clients 16] [--seconds 20] [--rate 300]
                           [--worker | --no-engine] [--rate-limit PER_MINUTE]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import json
import os
import platform
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import httpx

from bench import _loadgen, _setup
from bench._seed import seed_integration

WRK_SCRIPT = Path(__file__).parent / "wrk" / "enqueue.lua"


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


def sustained_wrk(
    bases: list[str], key: str, clients: int, seconds: float
) -> tuple[int, float, float]:
    """Closed-loop load from wrk, one wrk per server; (events, p50, p99), the latencies
    those of the slower server (wrk reports percentiles, not the samples to merge)."""
    runs = [
        subprocess.Popen(
            ["wrk", "-t1", f"-c{clients}", f"-d{seconds:.0f}s", "-s", str(WRK_SCRIPT), base],
            env={**os.environ, "ROUTING_KEY": key},
            stdout=subprocess.PIPE,
            text=True,
        )
        for base in bases
    ]
    total = 0
    p50 = p99 = 0.0
    for run in runs:
        output, _ = run.communicate()
        line = next(line for line in output.splitlines() if line.startswith("WRK_RESULT"))
        fields = dict(part.split("=") for part in line.split()[1:])
        if int(fields["non2xx"]) or int(fields["errors"]):
            raise SystemExit(f"wrk saw failures: {line}")
        total += int(fields["requests"])
        p50 = max(p50, int(fields["p50_us"]) / 1e6)
        p99 = max(p99, int(fields["p99_us"]) / 1e6)
    return total, p50, p99


async def sustained(
    bases: list[str], key: str, clients: int, seconds: float
) -> tuple[int, float, float]:
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
    p50, p99 = (_setup.percentile(latencies, q) for q in (0.5, 0.99))
    return len(latencies), p50, p99


def at_rate(bases: list[str], key: str, rate: float, seconds: float, offset: int) -> list[float]:
    def make(sequence: int, base: str) -> bytes:
        body = json.dumps(event(key, offset + sequence, sequence % 2 == 1)).encode()
        return _loadgen.post(base, "/v2/enqueue", body)

    latencies, failures = asyncio.run(_loadgen.open_loop(bases, make, rate, seconds, pool=64))
    if failures:
        raise SystemExit(f"{failures} requests were not answered 2xx")
    return latencies


@contextlib.contextmanager
def running(processes: int, engine: str, rate_limit: int = 0) -> Iterator[tuple[list[str], str]]:
    """``processes`` servers on a fresh database with one Events v2 integration, the engine
    where ``engine`` says ("in-process", "worker", "none"), the intake limit ``rate_limit``
    events a minute (0: off); base URLs and integration key."""
    extra = [] if engine == "in-process" else ["--no-engine"]
    env = {"TOCSIN_INGEST_RATE_PER_MINUTE": str(rate_limit)}
    with contextlib.ExitStack() as stack:
        url = stack.enter_context(_setup.fresh_database())
        folder = Path(stack.enter_context(tempfile.TemporaryDirectory()))
        key = asyncio.run(seed_integration(url, kind="pagerduty_events_v2"))
        servers = stack.enter_context(
            _setup.serve(url, folder, processes=processes, extra=extra, env=env)
        )
        if engine == "worker":
            stack.enter_context(_setup.worker(url, folder))
        yield servers.base_urls, key


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--processes", type=int, default=2)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--rate", type=float, default=300)
    placement = parser.add_mutually_exclusive_group()
    placement.add_argument("--worker", action="store_true")
    placement.add_argument("--no-engine", action="store_true")
    parser.add_argument(
        "--rate-limit",
        type=int,
        default=0,
        help="TOCSIN_INGEST_RATE_PER_MINUTE for the servers (default 0: the limit off)",
    )
    args = parser.parse_args()
    engine = "worker" if args.worker else "none" if args.no_engine else "in-process"
    # Each measurement on its own database and servers: the latency at a fixed rate must
    # not pay for the incidents (and pages) the sustained run left behind.
    with running(args.processes, engine, args.rate_limit) as (bases, key):
        if shutil.which("wrk"):
            count, p50, p99 = sustained_wrk(bases, key, args.clients, args.seconds)
        else:
            count, p50, p99 = asyncio.run(sustained(bases, key, args.clients, args.seconds))
    with running(args.processes, engine, args.rate_limit) as (bases, key):
        rate_latencies = at_rate(bases, key, args.rate, args.seconds, 10_000_000)
    r50, r99 = (_setup.percentile(rate_latencies, q) * 1000 for q in (0.5, 0.99))
    print(f"machine: {platform.machine()}, Python {platform.python_version()}")
    print(f"servers: {args.processes} x tocsin serve, engine: {engine}")
    print(
        f"sustained: {count / args.seconds:7.0f} events/s over {args.seconds:.0f} s, "
        f"{args.clients} connections per server (p50 {p50 * 1000:.1f} ms, "
        f"p99 {p99 * 1000:.1f} ms; "
        "target >= 1000/s)"
    )
    print(f"at {args.rate:.0f} events/s: p50 {r50:.1f} ms, p99 {r99:.1f} ms (target p99 < 100 ms)")


if __name__ == "__main__":
    main()
