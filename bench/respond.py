"""Responding fast: what the first-run checklist costs the home page, and what
acknowledging a page of ticked incidents from the list costs.

    python bench/respond.py [--incidents 5000] [--runs 500]

A fresh database gets a team, a responder, a policy, a service and ``--incidents``
incidents opened by hand (so no alert came through an integration: the checklist's
"test alert" probe finds no row and must look at every alert, its worst case). Prints the
mean and p99 of ``first_run.progress`` (the whole checklist: one statement) and of
``bulk.apply`` acknowledging 50 incidents (the list's page size) in one transaction, the
body of one "Acknowledge selected" post.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time

from bench._setup import fresh_database, percentile
from tocsin.actions import first_run
from tocsin.actions.actors import Actor, system_actor
from tocsin.actions.escalation import policies
from tocsin.actions.identity import teams, users
from tocsin.actions.incidents import bulk
from tocsin.actions.intake import alerts
from tocsin.actions.principals import user_principal
from tocsin.actions.services import services
from tocsin.clock import SystemClock
from tocsin.db.session import Database
from tocsin.domain.access import TeamRole
from tocsin.domain.alerts import Severity
from tocsin.domain.escalation import LevelSnapshot, Target, TargetKind
from tocsin.domain.incidents import UrgencyRule

SEED = system_actor("benchmark seed")
PAGE = 50


async def run(url: str, incidents: int, runs: int) -> None:
    clock = SystemClock()
    database = Database(url, pool_size=2, max_overflow=0)
    try:
        async with database.transaction() as session:
            now = clock.now()
            team = await teams.create_team(session, actor=SEED, name="Checkout", now=now)
            rory = await users.create_user(
                session, actor=SEED, email="rory@example.com", name="Rory", now=now
            )
            await teams.add_member(
                session,
                actor=SEED,
                team_id=team.id,
                user_id=rory.id,
                role=TeamRole.RESPONDER,
                now=now,
            )
            policy = await policies.create_policy(
                session,
                actor=SEED,
                team_id=team.id,
                name="Checkout on call",
                levels=[LevelSnapshot(5, (Target(TargetKind.USER, rory.id),))],
                repeat_count=0,
                now=now,
            )
            service = await services.create_service(
                session,
                actor=SEED,
                team_id=team.id,
                name="checkout",
                escalation_policy_id=policy.policy.id,
                urgency_rule=UrgencyRule.SEVERITY,
                ack_timeout_minutes=None,
                auto_resolve_hours=None,
                now=now,
            )
            actor = Actor(await user_principal(session, rory))
        opened = []
        started = time.perf_counter()
        for batch in range(0, incidents, 500):
            async with database.transaction() as session:
                for number in range(batch, min(incidents, batch + 500)):
                    incident = await alerts.open_incident(
                        session,
                        service=service,
                        title=f"Problem {number}",
                        description="",
                        severity=Severity.CRITICAL,
                        actor=SEED,
                        now=clock.now(),
                    )
                    opened.append(incident.id)
        print(f"seeded {incidents} incidents in {time.perf_counter() - started:.1f} s")

        checklist = []
        for _ in range(runs):
            async with database.transaction() as session:
                began = time.perf_counter()
                await first_run.progress(session, actor=actor, user_id=rory.id)
                checklist.append((time.perf_counter() - began) * 1000)
        report(f"first-run checklist ({incidents} incidents)", checklist)

        acknowledged = []
        batches = [opened[start : start + PAGE] for start in range(0, len(opened), PAGE)]
        for chosen in batches[: min(len(batches), 20)]:
            began = time.perf_counter()
            async with database.transaction() as session:
                outcomes = await bulk.apply(
                    session,
                    action=bulk.BulkAction.ACKNOWLEDGE,
                    incident_ids=chosen,
                    actor=actor,
                    via="bench",
                    now=clock.now(),
                )
            acknowledged.append((time.perf_counter() - began) * 1000)
            assert all(item.result is bulk.Result.DONE for item in outcomes), outcomes
        report(f"acknowledge {PAGE} ticked incidents, committed", acknowledged)
    finally:
        await database.dispose()


def report(label: str, timings: list[float]) -> None:
    mean = statistics.fmean(timings)
    p99 = percentile(timings, 0.99)
    print(f"{label:<52} mean {mean:8.2f} ms   p99 {p99:8.2f} ms   ({len(timings)} runs)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--incidents", type=int, default=5000)
    parser.add_argument("--runs", type=int, default=500)
    arguments = parser.parse_args()
    with fresh_database() as url:
        asyncio.run(run(url, arguments.incidents, arguments.runs))


if __name__ == "__main__":
    main()
