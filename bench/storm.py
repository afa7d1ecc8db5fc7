"""Storm benchmark: how long the engine takes to page a burst of new incidents.

``--incidents`` new alerts (default 3,000) for one service are accepted by a
``tocsin serve --no-engine`` first; then one ``tocsin worker`` starts and the clock runs
until every incident has its page and every page its deliveries. The on-call person has
the default rules (email at once, to the local outbox), so the storm also exercises
bundling: the first four pages go out on their own, the rest join one digest.

    python -m bench.storm [--incidents 3000]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import platform
import tempfile
import time
from pathlib import Path

import psycopg

from bench import _loadgen, _setup
from bench._seed import seed_integration

SEND_RATE = 500  # events/s: well within intake's capacity, so the burst lands quickly


def send_storm(base: str, key: str, incidents: int) -> None:
    def make(sequence: int, server: str) -> bytes:
        event = {
            "routing_key": key,
            "event_action": "trigger",
            "dedup_key": f"storm-{sequence}",
            "payload": {
                "summary": f"Checkout errors on pod {sequence}",
                "source": f"checkout-{sequence}",
                "severity": "critical",
            },
        }
        return _loadgen.post(server, "/v2/enqueue", json.dumps(event).encode())

    _, failures = asyncio.run(
        _loadgen.open_loop([base], make, SEND_RATE, incidents / SEND_RATE, pool=32)
    )
    if failures:
        raise SystemExit(f"{failures} alerts were not accepted")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--incidents", type=int, default=3000)
    args = parser.parse_args()
    with _setup.fresh_database() as url, tempfile.TemporaryDirectory() as folder:
        key = asyncio.run(seed_integration(url, kind="pagerduty_events_v2"))
        with _setup.serve(url, Path(folder), extra=["--no-engine"]) as servers:
            send_storm(servers.base_urls[0], key, args.incidents)
        conninfo = url.replace("postgresql+psycopg://", "postgresql://")
        with psycopg.connect(conninfo, autocommit=True) as connection:
            started = time.monotonic()
            with _setup.worker(url, Path(folder)):
                while True:
                    pages, undispatched, queued_pages = connection.execute(
                        "SELECT count(*), count(*) FILTER (WHERE dispatched_at IS NULL),"
                        " (SELECT count(*) FROM delivery WHERE purpose = 'page'"
                        "  AND status IN ('queued', 'sending'))"
                        " FROM page"
                    ).fetchone() or (0, 0, 0)
                    if pages >= args.incidents and not undispatched and not queued_pages:
                        break
                    if time.monotonic() - started > 600:
                        raise SystemExit("the engine did not page the storm in 10 minutes")
                    time.sleep(0.1)
                elapsed = time.monotonic() - started
            statuses: dict[str, int] = dict(
                connection.execute(
                    "SELECT status, count(*) FROM delivery WHERE purpose = 'page' GROUP BY status"
                ).fetchall()
            )
    print(f"machine: {platform.machine()}, Python {platform.python_version()}")
    print(
        f"storm: {args.incidents} new incidents paged and dispatched {elapsed:.1f} s after "
        "the worker started (its start-up included)"
    )
    print(f"page deliveries by status: {statuses}")


if __name__ == "__main__":
    main()
