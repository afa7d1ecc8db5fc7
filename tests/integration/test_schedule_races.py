"""Concurrent changes to one schedule: the lock on the schedule row decides, not luck."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from tests.builders import Seed
from tocsin.actions.actors import system_actor
from tocsin.actions.oncall import overrides, schedules
from tocsin.domain.access import TeamRole
from tocsin.errors import Conflict


async def test_concurrent_overlapping_overrides_leave_exactly_one(seed: Seed) -> None:
    people = [await seed.user(f"Person {number}") for number in range(6)]
    team = await seed.team(members=[(person, TeamRole.RESPONDER) for person in people])
    actor = system_actor("race test")
    now = seed.clock.now()
    async with seed.database.transaction() as session:
        schedule = await schedules.create_schedule(
            session, actor=actor, team_id=team.id, name="Race", time_zone="UTC", now=now
        )

    async def cover(offset_hours: int, person_number: int) -> str:
        try:
            async with seed.database.transaction() as session:
                await overrides.create_override(
                    session,
                    actor=actor,
                    schedule_id=schedule.id,
                    user_id=people[person_number].id,
                    starts_at=now + timedelta(hours=1 + offset_hours),
                    ends_at=now + timedelta(hours=5 + offset_hours),
                    now=now,
                )
        except Conflict:
            return "conflict"
        return "created"

    # Every interval overlaps every other: whatever the interleaving, one wins.
    outcomes = await asyncio.gather(*(cover(number % 3, number) for number in range(6)))
    assert sorted(outcomes) == ["conflict"] * 5 + ["created"]
    async with seed.database.transaction() as session:
        stored = await overrides.list_overrides(
            session, actor=actor, schedule_id=schedule.id, since=now, until=now + timedelta(days=1)
        )
    assert len(stored) == 1
