"""Escalation lag: with many open incidents, how late is a step after its due time?

Seeds ``--incidents`` open incidents (default 10,000) on a fresh database, each already
paged at level 1, with its level-2 step due at a time spread evenly over ``--spread``
seconds starting a few seconds from now. Then runs real ``tocsin worker`` processes (the
engine alone) and measures, for every incident, the delay between the step's due time and
the page record the engine wrote for it. Target: p99 under 1 s.

    python -m bench.escalation_lag [--incidents 10000] [--spread 60] [--workers 1]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import signal
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta

import psycopg

from bench import _setup
from bench._seed import seed_integration


def seed_incidents(url: str, count: int, first_due: datetime, spread: float) -> None:
    """Open incidents as intake would, then place each one at level 1 with level 2 due at
    its own moment (set directly: the benchmark is about the engine, not intake)."""
    conninfo = url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(conninfo) as connection:
        service = connection.execute(
            "SELECT id, team_id, escalation_policy_id FROM service"
        ).fetchone()
        assert service is not None
        service_id, team_id, policy_id = service
        users = [row[0] for row in connection.execute("SELECT id FROM user_account ORDER BY email")]
        snapshot = (
            f'{{"policy_id": "{policy_id}", "name": "bench", "repeat_count": 0, "levels": ['
            f'{{"delay_minutes": 1, "targets": [{{"kind": "user", "id": "{users[0]}"}}]}},'
            f'{{"delay_minutes": 1, "targets": [{{"kind": "user", "id": "{users[-1]}"}}]}}]}}'
        )
        step = spread / count
        with connection.cursor() as cursor:
            cursor.executemany(
                """
                INSERT INTO incident (
                    id, service_id, team_id, title, description, severity, urgency, status,
                    created_at, updated_at, alert_count, last_alert_at, escalation_policy_id,
                    escalation_snapshot, escalation_level, escalation_loop, escalation_token,
                    next_escalation_at
                ) VALUES (
                    gen_random_uuid(), %(service)s, %(team)s, %(title)s, '', 'critical', 'high',
                    'triggered', %(created)s, %(created)s, 1, %(created)s, %(policy)s,
                    CAST(%(snapshot)s AS jsonb), 1, 0, 1, %(due)s
                )
                """,
                [
                    {
                        "service": service_id,
                        "team": team_id,
                        "title": f"Incident {number}",
                        "created": first_due - timedelta(minutes=1),
                        "policy": policy_id,
                        "snapshot": snapshot,
                        "due": first_due + timedelta(seconds=number * step),
                    }
                    for number in range(count)
                ],
            )
        connection.commit()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--incidents", type=int, default=10_000)
    parser.add_argument("--spread", type=float, default=60.0)
    parser.add_argument("--workers", type=int, default=1)
    args = parser.parse_args()
    with _setup.fresh_database() as url, tempfile.TemporaryDirectory() as folder:
        asyncio.run(seed_integration(url, people=2))
        first_due = datetime.now(UTC) + timedelta(seconds=8)
        seed_incidents(url, args.incidents, first_due, args.spread)
        env = {
            **os.environ,
            "TOCSIN_DATABASE_URL": url,
            "TOCSIN_DATA_DIR": folder,
            "TOCSIN_LOG_LEVEL": "warning",
        }
        workers = [
            subprocess.Popen([sys.executable, "-m", "tocsin", "worker"], env=env)
            for _ in range(args.workers)
        ]
        try:
            deadline = time.monotonic() + args.spread + 120
            conninfo = url.replace("postgresql+psycopg://", "postgresql://")
            while time.monotonic() < deadline:
                with psycopg.connect(conninfo) as connection:
                    done = connection.execute(
                        "SELECT count(*) FROM page WHERE level = 2"
                    ).fetchone()
                if done and done[0] >= args.incidents:
                    break
                time.sleep(1)
        finally:
            for worker in workers:
                worker.send_signal(signal.SIGTERM)
            for worker in workers:
                worker.wait(timeout=60)
        with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://")) as connection:
            rows = connection.execute(
                """
                SELECT extract(epoch FROM page.created_at) AS paged, incident.title
                FROM page JOIN incident ON incident.id = page.incident_id
                WHERE page.level = 2
                """
            ).fetchall()
        step = args.spread / args.incidents
        delays = [
            float(paged) - (first_due.timestamp() + int(title.split()[-1]) * step)
            for paged, title in rows
        ]
    p50, p99 = _setup.percentile(delays, 0.5), _setup.percentile(delays, 0.99)
    print(f"machine: {platform.machine()}, Python {platform.python_version()}")
    print(
        f"{len(delays)} of {args.incidents} level-2 steps paged, due over {args.spread:.0f} s "
        f"({args.incidents / args.spread:.0f}/s), {args.workers} worker(s)"
    )
    print(
        f"delay due -> page: p50 {p50 * 1000:.0f} ms, p99 {p99 * 1000:.0f} ms, "
        f"max {max(delays) * 1000:.0f} ms (target p99 < 1000 ms)"
    )


if __name__ == "__main__":
    main()
