"""Who is on call: loading schedules into ``domain.schedules`` and asking it.

Two functions here are the stable interface for the rest of tocsin, and take no actor
because only trusted code (the escalation engine, the notification scheduler) calls them:

* ``on_call_users(session, *, schedule_id, at) -> list[uuid.UUID]``: who a schedule target
  pages at ``at``. An empty list means nobody can be paged: a gap, no such schedule, or an
  on-call person who has since been deactivated or is no longer a responder of the team.
  The engine then writes that on the incident timeline and moves on; it never pages no
  one silently. A schedule has at most one person on call; the list leaves room for more.
* ``upcoming_handoffs(session, *, since, until) -> list[ScheduleHandoff]``: every change of
  on-call person on every schedule with ``since <= at < until``, so that shift-start
  notifications can be sent. Gaps appear as a ``None`` side.

Both read the rules and compute; nothing is materialised, so an edit to a layer or an
override is reflected by the very next call. Everything else here is the same questions
asked by a person or API key, and authorized as such.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from tocsin.actions.actors import Actor
from tocsin.db.models.schedules import (
    Schedule,
    ScheduleLayer,
    ScheduleLayerParticipant,
    ScheduleOverride,
)
from tocsin.db.models.teams import TeamMembership
from tocsin.db.models.users import User
from tocsin.domain.access import Action, TeamRole, authorize
from tocsin.domain.schedules import timeline
from tocsin.domain.schedules.overrides import Override
from tocsin.domain.schedules.restrictions import Window
from tocsin.domain.schedules.rotations import Rotation, RotationLength
from tocsin.errors import InvalidInput, NotFound

# A rendered range longer than this is refused: a timeline is for reading, and a year of
# hourly shifts is already 8,760 segments per layer.
MAX_TIMELINE = timedelta(days=366)


@dataclass(frozen=True)
class LayerView:
    layer: ScheduleLayer
    participants: tuple[uuid.UUID, ...]


@dataclass(frozen=True)
class LoadedSchedule:
    schedule: Schedule
    layers: tuple[LayerView, ...]
    overrides: tuple[ScheduleOverride, ...] = field(default=())

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.schedule.time_zone)

    def rules(self) -> timeline.Schedule:
        """The schedule as the pure domain sees it."""
        zone = self.zone
        return timeline.Schedule(
            zone=zone,
            layers=tuple(domain_layer(view, zone) for view in self.layers),
            overrides=tuple(domain_override(row) for row in self.overrides),
        )


@dataclass(frozen=True)
class ScheduleHandoff:
    schedule_id: uuid.UUID
    team_id: uuid.UUID
    at: datetime
    from_user_id: uuid.UUID | None
    to_user_id: uuid.UUID | None


@dataclass(frozen=True)
class ScheduleOnCall:
    schedule: Schedule
    at: datetime
    answer: timeline.OnCall


def domain_layer(view: LayerView, zone: ZoneInfo) -> timeline.Layer:
    layer = view.layer
    return timeline.Layer(
        id=layer.id,
        rotation=Rotation(
            zone=zone,
            start=layer.start_local,
            length=RotationLength(layer.length_unit, layer.length_count),
            participants=view.participants,
            phase=layer.phase,
            end=layer.end_local,
        ),
        windows=windows_from_json(layer.restrictions),
    )


def domain_override(row: ScheduleOverride) -> Override:
    return Override(row.id, row.user_id, row.starts_at, row.ends_at, row.replaces_user_id)


def windows_to_json(windows: tuple[Window, ...]) -> list[dict[str, Any]]:
    return [
        {
            "days": sorted(window.days),
            "start": window.start.strftime("%H:%M"),
            "end": window.end.strftime("%H:%M"),
        }
        for window in windows
    ]


def windows_from_json(stored: list[dict[str, Any]]) -> tuple[Window, ...]:
    return tuple(
        Window(
            days=frozenset(int(day) for day in item["days"]),
            start=time.fromisoformat(item["start"]),
            end=time.fromisoformat(item["end"]),
        )
        for item in stored
    )


async def load(
    session: AsyncSession,
    schedule_id: uuid.UUID,
    *,
    overrides_since: datetime | None = None,
    overrides_until: datetime | None = None,
    lock: bool = False,
) -> LoadedSchedule:
    """A schedule with its layers and the overrides that touch ``[since, until)`` (none
    when no range is given: a schedule accumulates overrides for ever)."""
    schedule = await session.get(Schedule, schedule_id, with_for_update=lock)
    if schedule is None:
        raise NotFound("schedule", schedule_id)
    loaded = await load_many(session, [schedule], overrides_since, overrides_until)
    return loaded[0]


async def load_many(
    session: AsyncSession,
    schedules: list[Schedule],
    overrides_since: datetime | None,
    overrides_until: datetime | None,
) -> list[LoadedSchedule]:
    ids = [schedule.id for schedule in schedules]
    if not ids:
        return []
    layers = (
        await session.scalars(
            sa.select(ScheduleLayer)
            .where(ScheduleLayer.schedule_id.in_(ids))
            .order_by(ScheduleLayer.position, ScheduleLayer.id)
        )
    ).all()
    people: dict[uuid.UUID, list[uuid.UUID]] = defaultdict(list)
    if layers:
        rows = await session.execute(
            sa.select(ScheduleLayerParticipant.layer_id, ScheduleLayerParticipant.user_id)
            .where(ScheduleLayerParticipant.layer_id.in_([layer.id for layer in layers]))
            .order_by(ScheduleLayerParticipant.layer_id, ScheduleLayerParticipant.position)
        )
        for layer_id, user_id in rows:
            people[layer_id].append(user_id)
    overrides: Sequence[ScheduleOverride] = ()
    if overrides_since is not None and overrides_until is not None:
        overrides = (
            await session.scalars(
                sa.select(ScheduleOverride)
                .where(
                    ScheduleOverride.schedule_id.in_(ids),
                    ScheduleOverride.ends_at > overrides_since,
                    ScheduleOverride.starts_at < overrides_until,
                )
                .order_by(ScheduleOverride.starts_at)
            )
        ).all()
    by_schedule_layers: dict[uuid.UUID, list[LayerView]] = defaultdict(list)
    for layer in layers:
        by_schedule_layers[layer.schedule_id].append(
            LayerView(layer, tuple(people.get(layer.id, ())))
        )
    by_schedule_overrides: dict[uuid.UUID, list[ScheduleOverride]] = defaultdict(list)
    for override in overrides:
        by_schedule_overrides[override.schedule_id].append(override)
    return [
        LoadedSchedule(
            schedule,
            tuple(by_schedule_layers.get(schedule.id, ())),
            tuple(by_schedule_overrides.get(schedule.id, ())),
        )
        for schedule in schedules
    ]


async def on_call_users(
    session: AsyncSession, *, schedule_id: uuid.UUID, at: datetime
) -> list[uuid.UUID]:
    """Who schedule ``schedule_id`` pages at ``at``; empty when nobody (see module doc)."""
    try:
        loaded = await load(session, schedule_id, overrides_since=at, overrides_until=at + _TICK)
    except NotFound:
        return []
    answer = timeline.on_call_at(loaded.rules(), at)
    if answer.user_id is None:
        return []
    # Someone deactivated, or no longer a responder of the team since they were put on the
    # rotation, would be paged into the void: answer "nobody", which the engine records.
    role = await session.scalar(
        sa.select(TeamMembership.role)
        .join(User, User.id == TeamMembership.user_id)
        .where(
            TeamMembership.team_id == loaded.schedule.team_id,
            TeamMembership.user_id == answer.user_id,
            User.is_active,
        )
    )
    if role is None or not role.at_least(TeamRole.RESPONDER):
        return []
    return [answer.user_id]


async def upcoming_handoffs(
    session: AsyncSession, *, since: datetime, until: datetime
) -> list[ScheduleHandoff]:
    """Every change of on-call person with ``since <= at < until``, on every schedule."""
    _check_range(since, until)
    schedules = list((await session.scalars(sa.select(Schedule).order_by(Schedule.id))).all())
    # Render from just before ``since`` so that a handoff exactly at ``since`` is a boundary.
    before = since - _TICK
    found: list[ScheduleHandoff] = []
    for loaded in await load_many(session, schedules, before, until):
        segments = timeline.render(loaded.rules(), before, until)
        found.extend(
            ScheduleHandoff(
                loaded.schedule.id,
                loaded.schedule.team_id,
                change.at,
                change.from_user_id,
                change.to_user_id,
            )
            for change in timeline.handoffs(segments)
            if change.at >= since
        )
    return sorted(found, key=lambda handoff: (handoff.at, handoff.schedule_id))


async def list_handoffs(
    session: AsyncSession, *, actor: Actor, since: datetime, until: datetime
) -> list[ScheduleHandoff]:
    """``upcoming_handoffs`` for a person or API key allowed to read schedules."""
    authorize(actor.principal, Action.READ_SCHEDULES)
    return await upcoming_handoffs(session, since=since, until=until)


async def schedule_on_call(
    session: AsyncSession, *, actor: Actor, schedule_id: uuid.UUID, at: datetime
) -> ScheduleOnCall:
    authorize(actor.principal, Action.READ_SCHEDULES)
    loaded = await load(session, schedule_id, overrides_since=at, overrides_until=at + _TICK)
    return ScheduleOnCall(loaded.schedule, at, timeline.on_call_at(loaded.rules(), at))


async def team_on_call(
    session: AsyncSession, *, actor: Actor, team_id: uuid.UUID, at: datetime
) -> list[ScheduleOnCall]:
    """One answer per schedule of the team, gaps included, by schedule name."""
    authorize(actor.principal, Action.READ_SCHEDULES)
    schedules = list(
        (
            await session.scalars(
                sa.select(Schedule).where(Schedule.team_id == team_id).order_by(Schedule.name)
            )
        ).all()
    )
    loaded = await load_many(session, schedules, at, at + _TICK)
    return [
        ScheduleOnCall(item.schedule, at, timeline.on_call_at(item.rules(), at)) for item in loaded
    ]


async def user_on_call(
    session: AsyncSession, *, actor: Actor, user_id: uuid.UUID, at: datetime
) -> list[ScheduleOnCall]:
    """The schedules on which ``user_id`` is on call at ``at`` ("am I on call?")."""
    authorize(actor.principal, Action.READ_SCHEDULES)
    loaded = await load_many(session, await schedules_of_user(session, user_id), at, at + _TICK)
    answers = [
        ScheduleOnCall(item.schedule, at, timeline.on_call_at(item.rules(), at)) for item in loaded
    ]
    return [answer for answer in answers if answer.answer.user_id == user_id]


async def render_timeline(
    session: AsyncSession,
    *,
    actor: Actor,
    schedule_id: uuid.UUID,
    since: datetime,
    until: datetime,
) -> tuple[Schedule, list[timeline.Segment]]:
    authorize(actor.principal, Action.READ_SCHEDULES)
    _check_range(since, until)
    loaded = await load(session, schedule_id, overrides_since=since, overrides_until=until)
    return loaded.schedule, timeline.render(loaded.rules(), since, until)


async def schedules_of_user(session: AsyncSession, user_id: uuid.UUID) -> list[Schedule]:
    """Schedules where ``user_id`` is a participant or has an override."""
    in_layers = (
        sa.select(ScheduleLayer.schedule_id)
        .join(ScheduleLayerParticipant, ScheduleLayerParticipant.layer_id == ScheduleLayer.id)
        .where(ScheduleLayerParticipant.user_id == user_id)
    )
    in_overrides = sa.select(ScheduleOverride.schedule_id).where(
        ScheduleOverride.user_id == user_id
    )
    return list(
        (
            await session.scalars(
                sa.select(Schedule)
                .where(sa.or_(Schedule.id.in_(in_layers), Schedule.id.in_(in_overrides)))
                .order_by(Schedule.name, Schedule.id)
            )
        ).all()
    )


def _check_range(since: datetime, until: datetime) -> None:
    if until <= since:
        raise InvalidInput("until", "the range ends after it starts")
    if until - since > MAX_TIMELINE:
        raise InvalidInput("until", f"a range covers at most {MAX_TIMELINE.days} days")


_TICK = timedelta(microseconds=1)
