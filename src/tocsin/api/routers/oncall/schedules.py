"""Schedules and their layers, and the on-call questions asked of them."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Query, Response

from tocsin.actions.oncall import on_call, schedules
from tocsin.api.schemas import problems
from tocsin.api.schemas.common import Instant, Page
from tocsin.api.schemas.oncall import (
    HandoffRead,
    LayerCreate,
    LayerOrder,
    LayerRead,
    LayerUpdate,
    OnCallRead,
    RestrictionBody,
    RestrictionRead,
    ScheduleCreate,
    ScheduleRead,
    ScheduleSummary,
    ScheduleUpdate,
    SegmentRead,
    TimelineRead,
)
from tocsin.domain.schedules.restrictions import Window
from tocsin.errors import InvalidInput
from tocsin.http.deps import CurrentActor, DbSession, Now

router = APIRouter(prefix="/api/v1/schedules", tags=["schedules"], responses=problems.COMMON)
ONE = {**problems.NOT_FOUND, **problems.CONFLICT}
DEFAULT_TIMELINE = timedelta(days=14)
OptionalInstant = Annotated[Instant | None, Query(description="Default: now")]


@router.get("", response_model=Page[ScheduleSummary])
async def list_schedules(
    session: DbSession,
    actor: CurrentActor,
    team_id: uuid.UUID | None = None,
    cursor: Annotated[str | None, Query(max_length=512)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> Page[ScheduleSummary]:
    page = await schedules.list_schedules(
        session, actor=actor, team_id=team_id, cursor=cursor, limit=limit
    )
    return Page[ScheduleSummary](
        items=[ScheduleSummary.model_validate(item) for item in page.items],
        next_cursor=page.next_cursor,
    )


@router.post("", status_code=201, response_model=ScheduleRead, responses=ONE)
async def create_schedule(
    body: ScheduleCreate, session: DbSession, actor: CurrentActor, now: Now
) -> ScheduleRead:
    schedule = await schedules.create_schedule(
        session,
        actor=actor,
        team_id=body.team_id,
        name=body.name,
        description=body.description,
        time_zone=body.time_zone,
        now=now,
    )
    return _read(on_call.LoadedSchedule(schedule, ()))


@router.get("/on-call", response_model=list[OnCallRead])
async def who_is_on_call(
    session: DbSession,
    actor: CurrentActor,
    now: Now,
    team_id: uuid.UUID | None = None,
    user_id: uuid.UUID | None = None,
    at: OptionalInstant = None,
) -> list[OnCallRead]:
    """Per team (one answer per schedule, gaps included) or per user (the schedules on
    which they are on call: empty means "not on call"). Give exactly one of the two."""
    instant = at or now
    if (team_id is None) == (user_id is None):
        raise InvalidInput("team_id", "give exactly one of team_id and user_id")
    if team_id is not None:
        answers = await on_call.team_on_call(session, actor=actor, team_id=team_id, at=instant)
    else:
        assert user_id is not None  # exactly one was given
        answers = await on_call.user_on_call(session, actor=actor, user_id=user_id, at=instant)
    return [_on_call(answer) for answer in answers]


@router.get("/handoffs", response_model=list[HandoffRead])
async def upcoming_handoffs(
    session: DbSession,
    actor: CurrentActor,
    now: Now,
    since: OptionalInstant = None,
    until: OptionalInstant = None,
) -> list[HandoffRead]:
    """Every change of on-call person on every schedule (default: the next 24 hours)."""
    start = since or now
    handoffs = await on_call.list_handoffs(
        session, actor=actor, since=start, until=until or start + timedelta(days=1)
    )
    return [HandoffRead.model_validate(handoff) for handoff in handoffs]


# ``:uuid`` on the one-segment paths: without it ``PATCH /schedules/handoffs`` (and
# ``/on-call``) would be taken as a schedule id and refused 422, instead of 405 naming the
# methods those paths take.
ONE_SCHEDULE = "/{schedule_id:uuid}"


@router.get(ONE_SCHEDULE, response_model=ScheduleRead, responses=problems.NOT_FOUND)
async def get_schedule(
    schedule_id: uuid.UUID, session: DbSession, actor: CurrentActor
) -> ScheduleRead:
    return _read(await schedules.get_schedule(session, actor=actor, schedule_id=schedule_id))


@router.patch(ONE_SCHEDULE, response_model=ScheduleRead, responses=ONE)
async def update_schedule(
    schedule_id: uuid.UUID, body: ScheduleUpdate, session: DbSession, actor: CurrentActor, now: Now
) -> ScheduleRead:
    await schedules.update_schedule(
        session,
        actor=actor,
        schedule_id=schedule_id,
        name=body.name,
        description=body.description,
        time_zone=body.time_zone,
        now=now,
    )
    return _read(await schedules.get_schedule(session, actor=actor, schedule_id=schedule_id))


@router.delete(ONE_SCHEDULE, status_code=204, responses=ONE)
async def delete_schedule(
    schedule_id: uuid.UUID, session: DbSession, actor: CurrentActor, now: Now
) -> Response:
    await schedules.delete_schedule(session, actor=actor, schedule_id=schedule_id, now=now)
    return Response(status_code=204)


@router.post("/{schedule_id}/layers", status_code=201, response_model=ScheduleRead, responses=ONE)
async def add_layer(
    schedule_id: uuid.UUID, body: LayerCreate, session: DbSession, actor: CurrentActor, now: Now
) -> ScheduleRead:
    """The new layer goes on top: it wins wherever it has someone on call."""
    spec = schedules.LayerSpec(
        name=body.name,
        start=body.start,
        end=body.end,
        length=body.rotation.length(),
        participants=tuple(body.participants),
        windows=_windows(body.restrictions),
    )
    loaded = await schedules.add_layer(
        session, actor=actor, schedule_id=schedule_id, spec=spec, now=now
    )
    return _read(loaded)


@router.patch("/{schedule_id}/layers/{layer_id}", response_model=ScheduleRead, responses=ONE)
async def update_layer(
    schedule_id: uuid.UUID,
    layer_id: uuid.UUID,
    body: LayerUpdate,
    session: DbSession,
    actor: CurrentActor,
    now: Now,
) -> ScheduleRead:
    spec = schedules.LayerSpec(
        name=body.name,
        start=body.start,
        end=body.end,
        clear_end="end" in body.model_fields_set and body.end is None,
        length=body.rotation.length() if body.rotation else None,
        participants=None if body.participants is None else tuple(body.participants),
        windows=None if body.restrictions is None else _windows(body.restrictions),
    )
    loaded = await schedules.update_layer(
        session, actor=actor, schedule_id=schedule_id, layer_id=layer_id, spec=spec, now=now
    )
    return _read(loaded)


@router.delete("/{schedule_id}/layers/{layer_id}", status_code=204, responses=ONE)
async def delete_layer(
    schedule_id: uuid.UUID, layer_id: uuid.UUID, session: DbSession, actor: CurrentActor, now: Now
) -> Response:
    await schedules.delete_layer(
        session, actor=actor, schedule_id=schedule_id, layer_id=layer_id, now=now
    )
    return Response(status_code=204)


@router.put("/{schedule_id}/layer-order", response_model=ScheduleRead, responses=ONE)
async def reorder_layers(
    schedule_id: uuid.UUID, body: LayerOrder, session: DbSession, actor: CurrentActor, now: Now
) -> ScheduleRead:
    loaded = await schedules.reorder_layers(
        session, actor=actor, schedule_id=schedule_id, layer_ids=body.layer_ids, now=now
    )
    return _read(loaded)


@router.get("/{schedule_id}/on-call", response_model=OnCallRead, responses=problems.NOT_FOUND)
async def schedule_on_call(
    schedule_id: uuid.UUID,
    session: DbSession,
    actor: CurrentActor,
    now: Now,
    at: OptionalInstant = None,
) -> OnCallRead:
    answer = await on_call.schedule_on_call(
        session, actor=actor, schedule_id=schedule_id, at=at or now
    )
    return _on_call(answer)


@router.get("/{schedule_id}/timeline", response_model=TimelineRead, responses=problems.NOT_FOUND)
async def timeline(
    schedule_id: uuid.UUID,
    session: DbSession,
    actor: CurrentActor,
    now: Now,
    since: OptionalInstant = None,
    until: OptionalInstant = None,
) -> TimelineRead:
    """The final timeline (layers flattened, overrides applied, gaps explicit); default:
    the next 14 days. At most 366 days at once."""
    start = since or now
    end = until or start + DEFAULT_TIMELINE
    schedule, segments = await on_call.render_timeline(
        session, actor=actor, schedule_id=schedule_id, since=start, until=end
    )
    return TimelineRead(
        schedule_id=schedule.id,
        time_zone=schedule.time_zone,
        since=start,
        until=end,
        segments=[SegmentRead.model_validate(segment) for segment in segments],
    )


def _windows(bodies: list[RestrictionBody]) -> tuple[Window, ...]:
    return tuple(Window(frozenset(body.days), body.start, body.end) for body in bodies)


def _read(loaded: on_call.LoadedSchedule) -> ScheduleRead:
    return ScheduleRead(
        **ScheduleSummary.model_validate(loaded.schedule).model_dump(),
        layers=[
            LayerRead(
                id=view.layer.id,
                name=view.layer.name,
                position=view.layer.position,
                start=view.layer.start_local,
                end=view.layer.end_local,
                length_unit=view.layer.length_unit,
                length_count=view.layer.length_count,
                participants=list(view.participants),
                restrictions=[RestrictionRead(**item) for item in view.layer.restrictions],
            )
            for view in loaded.layers
        ],
    )


def _on_call(answer: on_call.ScheduleOnCall) -> OnCallRead:
    return OnCallRead(
        schedule_id=answer.schedule.id,
        schedule_name=answer.schedule.name,
        team_id=answer.schedule.team_id,
        at=answer.at,
        user_id=answer.answer.user_id,
        source=answer.answer.kind,
        layer_id=answer.answer.layer_id,
        override_id=answer.answer.override_id,
    )
