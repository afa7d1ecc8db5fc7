"""Telling people their on-call shift has started (opt-in: ``on_shift_start``).

The shift module of the engine calls ``announce_due``. Shift starts come from the
schedules' rules (``oncall.upcoming_handoffs``: every change of on-call person); nothing
is materialised, so an edited rotation or a new override is announced as it now stands.

Exactly once per person per shift start, however many engines run and however often:

* the cursor ``notify_cursor['shift_start']`` holds the instant up to which shift starts
  have been announced; it is read ``FOR UPDATE``, so engines take turns, and it moves
  with the deliveries it caused, in one transaction;
* each notice is a delivery unique by its ``dedup_key`` (schedule, instant, method), so
  even a cursor set back cannot announce a shift start twice.

The first run starts the cursor at its own ``now``: shifts that began before tocsin
watched are not news. Neither is a shift start found more than ``LATE_LIMIT`` late (tocsin
was stopped meanwhile): it is skipped rather than announced long after the fact.
"""

from __future__ import annotations

import uuid
from collections.abc import Set
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from tocsin.actions.identity import contact_methods
from tocsin.actions.oncall import on_call
from tocsin.actions.wake import wake_engine
from tocsin.db.models.contact_methods import ContactMethod, NotificationSetting
from tocsin.db.models.deliveries import Delivery, NotifyCursor
from tocsin.db.models.schedules import Schedule
from tocsin.domain import channels
from tocsin.domain.channels import ChannelKind
from tocsin.domain.deliveries import DeliveryStatus, Purpose

CURSOR = "shift_start"
LATE_LIMIT = timedelta(minutes=15)
# How far ahead the next shift start is looked for, so the engine can wake for it.
LOOKAHEAD = timedelta(hours=1)


@dataclass(frozen=True)
class Announced:
    # Shift starts announced now, and the deliveries they became.
    shift_starts: int
    deliveries: int
    # The next shift start after ``now`` within the lookahead, if any.
    next_start: datetime | None


async def announce_due(
    session: AsyncSession, *, now: datetime, deliverable: Set[ChannelKind]
) -> Announced:
    """Queue a notice for every shift that started since the cursor, up to ``now``."""
    await session.execute(
        insert(NotifyCursor)
        .values(name=CURSOR, position=now)
        .on_conflict_do_nothing(index_elements=["name"])
    )
    cursor = await session.scalar(
        sa.select(NotifyCursor)
        .where(NotifyCursor.name == CURSOR)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    assert cursor is not None  # inserted above if it was missing
    since = max(cursor.position, now - LATE_LIMIT)
    handoffs = await on_call.upcoming_handoffs(session, since=since, until=now + LOOKAHEAD)
    started = [
        handoff
        for handoff in handoffs
        if cursor.position < handoff.at <= now and handoff.to_user_id is not None
    ]
    upcoming = [handoff.at for handoff in handoffs if handoff.at > now]
    deliveries = await _queue(session, started, now=now, deliverable=deliverable)
    cursor.position = max(cursor.position, now)
    return Announced(len(started), deliveries, min(upcoming, default=None))


async def _queue(
    session: AsyncSession,
    started: list[on_call.ScheduleHandoff],
    *,
    now: datetime,
    deliverable: Set[ChannelKind],
) -> int:
    """One delivery per verified, enabled gentle method of each opted-in person."""
    if not started:
        return 0
    methods = await contact_methods.opted_in_methods(
        session,
        users={handoff.to_user_id for handoff in started if handoff.to_user_id is not None},
        opt_in=NotificationSetting.on_shift_start,
        # Informational: the gentle channels only, and only those tocsin can deliver.
        kinds=[kind for kind in deliverable if not channels.intrusive(kind)],
    )
    by_user: dict[uuid.UUID, list[ContactMethod]] = {}
    for method in methods:
        by_user.setdefault(method.user_id, []).append(method)
    names = dict(
        (
            await session.execute(
                sa.select(Schedule.id, Schedule.name).where(
                    Schedule.id.in_({handoff.schedule_id for handoff in started})
                )
            )
        ).all()
    )
    rows = [
        {
            "id": uuid.uuid4(),
            "purpose": Purpose.SHIFT,
            "user_id": method.user_id,
            "contact_method_id": method.id,
            "kind": method.kind,
            "tier": int(channels.TIER_OF[method.kind]),
            "status": DeliveryStatus.QUEUED,
            "next_attempt_at": now,
            "attempts": 0,
            "details": {
                "schedule": names.get(handoff.schedule_id, ""),
                "schedule_id": str(handoff.schedule_id),
                "at": handoff.at.isoformat(),
            },
            "dedup_key": f"shift:{handoff.schedule_id}:{handoff.at.isoformat()}:{method.id}",
            "created_at": now,
            "updated_at": now,
        }
        for handoff in started
        if handoff.to_user_id is not None
        for method in by_user.get(handoff.to_user_id, [])
    ]
    if not rows:
        return 0
    inserted = len(
        (
            await session.execute(
                insert(Delivery).values(rows).on_conflict_do_nothing().returning(Delivery.id)
            )
        ).all()
    )
    if inserted:
        await wake_engine(session, "deliveries")  # the notices are due now
    return inserted
