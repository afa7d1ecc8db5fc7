"""What both notification benchmarks share: a fresh database, a seeded on-call setup, and
an SMTP server (aiosmtpd, the one the tests use) that timestamps every mail it receives."""

from __future__ import annotations

import gc
import os
import secrets
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import psycopg
import sqlalchemy as sa

from tocsin.actions.actors import system_actor
from tocsin.actions.escalation import policies
from tocsin.actions.identity import teams, users
from tocsin.actions.services import integrations, services
from tocsin.actions.services.integration_settings import Destination
from tocsin.clock import SystemClock
from tocsin.db import migrate
from tocsin.db.models.integrations import IntegrationKind
from tocsin.db.session import Database
from tocsin.domain.access import TeamRole
from tocsin.domain.escalation import LevelSnapshot, Target, TargetKind
from tocsin.security.encryption import Cipher

SERVER = "postgresql://postgres@127.0.0.1:5432/postgres"
SECRET = b"bench-secret-key-not-for-production"


@contextmanager
def fresh_database(server: str = SERVER) -> Iterator[str]:
    name = f"tocsin_bench_notify_{secrets.token_hex(4)}"
    admin = server.rsplit("/", 1)[0]
    with psycopg.connect(server, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    url = f"{admin}/{name}"
    try:
        migrate.upgrade(url)
        yield url
    finally:
        with psycopg.connect(server, autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@dataclass
class Inbox:
    """Arrival time (time.monotonic) of every mail, by subject."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    arrivals: dict[str, float] = field(default_factory=dict)
    count: int = 0

    def record(self, line: str) -> None:
        stamp, _, subject = line.rstrip("\n").partition(" ")
        with self.lock:
            self.arrivals.setdefault(subject, float(stamp))
            self.count += 1


@contextmanager
def smtp_server(port: int) -> Iterator[Inbox]:
    """The SMTP sink in a process of its own, its output read by a thread."""
    inbox = Inbox()
    sink = subprocess.Popen(
        [sys.executable, "-m", "bench._smtp_sink", str(port)], stdout=subprocess.PIPE, text=True
    )
    assert sink.stdout is not None
    assert sink.stdout.readline().strip() == "ready"
    stream = sink.stdout

    def read() -> None:
        for line in stream:
            inbox.record(line)

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        yield inbox
    finally:
        sink.terminate()
        sink.wait(timeout=10)


async def seed(url: str, *, responders: int) -> str:
    """A team of ``responders`` all paged at level 1 of one service; its integration key."""
    database = Database(url)
    actor = system_actor("bench")
    now = SystemClock().now()
    try:
        async with database.transaction() as session:
            team = await teams.create_team(session, actor=actor, name="Payments", now=now)
            for number in range(responders):
                user = await users.create_user(
                    session,
                    actor=actor,
                    email=f"oncall{number}@example.com",
                    name=f"On-call {number}",
                    now=now,
                )
                await teams.add_member(
                    session,
                    actor=actor,
                    team_id=team.id,
                    user_id=user.id,
                    role=TeamRole.RESPONDER,
                    now=now,
                )
            policy = await policies.create_policy(
                session,
                actor=actor,
                team_id=team.id,
                name="Everyone",
                levels=[LevelSnapshot(30, (Target(TargetKind.TEAM, team.id),))],
                now=now,
            )
            service = await services.create_service(
                session,
                actor=actor,
                team_id=team.id,
                name="payments-api",
                escalation_policy_id=policy.policy.id,
                now=now,
            )
            saved = await integrations.create_integration(
                session,
                actor=actor,
                cipher=Cipher(SECRET),
                name="bench",
                kind=IntegrationKind.GENERIC,
                destination=Destination(service_id=service.id),
                now=now,
            )
        assert saved.key is not None
        return saved.key
    finally:
        await database.dispose()


def measuring_quietly() -> None:
    """Turn this process's garbage collector off for the run. The fakes run in this
    process and timestamp what they receive; a full collection here (this process imports
    tocsin, over a million objects) stalls them 100 ms or more, which the figures would
    count as the server's latency. A run makes little garbage that lives on."""
    gc.collect()
    gc.freeze()
    gc.disable()


def cpu_seconds(pid: int) -> float:
    """CPU time (user + system) a process has used so far, from /proc (Linux): a figure
    far steadier than latencies on a shared machine, for comparing code."""
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def report(name: str, latencies: list[float], expected: int, *, target_p99: float) -> None:
    """One line of a latency benchmark: how many arrived, p50, p99, max, and the verdict
    against ``target_p99`` (seconds)."""
    if not latencies:
        print(f"{name}: nothing received of {expected}")
        return
    p50 = percentile(latencies, 0.50) * 1000
    p99 = percentile(latencies, 0.99) * 1000
    verdict = "ok" if p99 < target_p99 * 1000 else "MISSED"
    print(
        f"{name}: {len(latencies)}/{expected} received; p50 {p50:.0f} ms, p99 {p99:.0f} ms, "
        f"max {max(latencies) * 1000:.0f} ms (target p99 < {target_p99 * 1000:.0f} ms: {verdict})"
    )


# Each stage of every sent delivery, from the database's own timestamps: the intake
# transaction's time (incident), the escalation step's (page), the dispatch's (delivery)
# and the send's outcome (sent).
_STAGES = """
    SELECT delivery.kind,
           extract(epoch FROM page.created_at - incident.created_at),
           extract(epoch FROM delivery.created_at - page.created_at),
           extract(epoch FROM delivery.sent_at - delivery.created_at)
    FROM delivery
    JOIN page ON page.id = delivery.page_id
    JOIN incident ON incident.id = delivery.incident_id
    WHERE delivery.sent_at IS NOT NULL
"""


async def where_the_time_goes(url: str) -> list[str]:
    """p50 / p99 of each stage, by channel: incident → page → delivery → sent."""
    database = Database(url)
    try:
        async with database.transaction() as session:
            rows = (await session.execute(sa.text(_STAGES))).all()
    finally:
        await database.dispose()
    by_kind: dict[str, list[tuple[float, float, float]]] = {}
    for kind, *stages in rows:
        by_kind.setdefault(str(kind), []).append(tuple(float(s) for s in stages))  # type: ignore[arg-type]
    lines = []
    for kind, samples in sorted(by_kind.items()):
        parts = []
        for name, values in zip(
            ("incident->page", "page->delivery", "delivery->sent"),
            zip(*samples, strict=True),
            strict=True,
        ):
            p50, p99 = (percentile(list(values), f) * 1000 for f in (0.5, 0.99))
            parts.append(f"{name} {p50:.0f}/{p99:.0f} ms")
        lines.append(f"{kind}: " + ", ".join(parts) + " (p50/p99)")
    return lines
