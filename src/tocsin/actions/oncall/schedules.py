"""Schedules and their layers: creating, editing, reordering, deleting.

A team's admins manage its schedules. Every change to a schedule's layers locks the
schedule row first, so concurrent edits of one schedule serialise and positions stay
contiguous (0 is the top layer). Everyone put on call (a layer participant) must be an
active member of the team who may respond: an observer is never paged.

Changing a layer's participants re-phases its rotation (``rotations.rephase``) at ``now``:
whoever is on call stays on call if still listed, otherwise the next in line takes over,
and handoff times never move. Other edits apply to the layer as a whole, past included;
the audit trail records every change, and incident timelines record who was paged.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from tocsin.actions import audit, references
from tocsin.actions.actors import Actor
from tocsin.actions.oncall import on_call
from tocsin.db import keyset
from tocsin.db.constraints import flush_restricted, flush_unique
from tocsin.db.models.schedules import Schedule, ScheduleLayer, ScheduleLayerParticipant
from tocsin.db.models.teams import Team, TeamMembership
from tocsin.db.models.users import User
from tocsin.domain import identity
from tocsin.domain.access import Action, TeamRole, authorize
from tocsin.domain.schedules.restrictions import Window
from tocsin.domain.schedules.rotations import Rotation, RotationLength, rephase
from tocsin.errors import InvalidInput, NotFound

_NAME_UNIQUE = "uq_schedule_team_id_name_lower"
MAX_LAYERS = 20
MAX_PARTICIPANTS = 100


@dataclass(frozen=True)
class LayerSpec:
    """A layer as requested; ``None`` fields of an update are left as they are."""

    name: str | None = None
    start: datetime | None = None
    end: datetime | None = None
    clear_end: bool = False
    length: RotationLength | None = None
    participants: tuple[uuid.UUID, ...] | None = None
    windows: tuple[Window, ...] | None = None


async def create_schedule(
    session: AsyncSession,
    *,
    actor: Actor,
    team_id: uuid.UUID,
    name: str,
    time_zone: str,
    now: datetime,
    description: str = "",
) -> Schedule:
    if await session.get(Team, team_id) is None:
        raise NotFound("team", team_id)
    authorize(actor.principal, Action.MANAGE_SCHEDULES, team_id=team_id)
    schedule = Schedule(
        id=uuid.uuid4(),
        team_id=team_id,
        name=_clean(name, "name", 100),
        description=description.strip(),
        time_zone=identity.validate_time_zone(time_zone),
        created_at=now,
        updated_at=now,
    )
    session.add(schedule)
    await flush_unique(session, resource="schedule", fields={_NAME_UNIQUE: ("name", schedule.name)})
    await _audit(session, actor, "schedule.created", schedule, now, {"name": schedule.name})
    return schedule


async def update_schedule(
    session: AsyncSession,
    *,
    actor: Actor,
    schedule_id: uuid.UUID,
    name: str | None,
    description: str | None,
    time_zone: str | None,
    now: datetime,
) -> Schedule:
    schedule = await _locked(session, actor, schedule_id)
    changed: list[str] = []
    if name is not None and _clean(name, "name", 100) != schedule.name:
        schedule.name = _clean(name, "name", 100)
        changed.append("name")
    if description is not None and description.strip() != schedule.description:
        schedule.description = description.strip()
        changed.append("description")
    if time_zone is not None and time_zone != schedule.time_zone:
        # Layers keep their local wall-clock times: 09:00 stays 09:00 in the new zone.
        schedule.time_zone = identity.validate_time_zone(time_zone)
        changed.append("time_zone")
    if changed:
        schedule.updated_at = now
        await flush_unique(
            session, resource="schedule", fields={_NAME_UNIQUE: ("name", schedule.name)}
        )
        await _audit(session, actor, "schedule.updated", schedule, now, {"changed": changed})
    return schedule


async def delete_schedule(
    session: AsyncSession, *, actor: Actor, schedule_id: uuid.UUID, now: datetime
) -> None:
    schedule = await _locked(session, actor, schedule_id)
    await references.refuse_if_schedule_in_use(session, schedule.id, schedule.name)
    await session.delete(schedule)
    await flush_restricted(session, detail=f"schedule {schedule.name!r} is still in use")
    await _audit(session, actor, "schedule.deleted", schedule, now, {"name": schedule.name})


async def get_schedule(
    session: AsyncSession, *, actor: Actor, schedule_id: uuid.UUID
) -> on_call.LoadedSchedule:
    authorize(actor.principal, Action.READ_SCHEDULES)
    return await on_call.load(session, schedule_id)


async def list_schedules(
    session: AsyncSession,
    *,
    actor: Actor,
    team_id: uuid.UUID | None,
    cursor: str | None,
    limit: int,
) -> keyset.Page[Schedule]:
    authorize(actor.principal, Action.READ_SCHEDULES)
    query = sa.select(Schedule)
    if team_id is not None:
        query = query.where(Schedule.team_id == team_id)
    return await keyset.fetch_page(session, query, key=Schedule.id, cursor=cursor, limit=limit)


async def add_layer(
    session: AsyncSession,
    *,
    actor: Actor,
    schedule_id: uuid.UUID,
    spec: LayerSpec,
    now: datetime,
) -> on_call.LoadedSchedule:
    """Add a layer on top of the others (it wins wherever it has someone on call)."""
    schedule = await _locked(session, actor, schedule_id)
    if spec.name is None or spec.start is None or spec.length is None:
        raise InvalidInput("body", "a new layer needs a name, a start and a rotation")
    participants = spec.participants or ()
    await _check_participants(session, schedule.team_id, participants)
    existing = (
        await session.scalars(
            sa.select(ScheduleLayer)
            .where(ScheduleLayer.schedule_id == schedule.id)
            .order_by(ScheduleLayer.position)
        )
    ).all()
    if len(existing) >= MAX_LAYERS:
        raise InvalidInput("layers", f"a schedule has at most {MAX_LAYERS} layers")
    for layer in existing:
        layer.position += 1
    layer = ScheduleLayer(
        id=uuid.uuid4(),
        schedule_id=schedule.id,
        name=_clean(spec.name, "name", 50),
        position=0,
        start_local=spec.start,
        end_local=None if spec.clear_end else spec.end,
        length_unit=spec.length.unit,
        length_count=spec.length.count,
        phase=0,
        restrictions=on_call.windows_to_json(spec.windows or ()),
        created_at=now,
        updated_at=now,
    )
    _check_rotation(schedule, layer, participants)
    session.add(layer)
    await session.flush()
    await _set_participants(session, layer.id, participants)
    await _audit(
        session, actor, "schedule.layer_added", schedule, now, _layer_details(layer, participants)
    )
    schedule.updated_at = now
    return await on_call.load(session, schedule.id)


async def update_layer(
    session: AsyncSession,
    *,
    actor: Actor,
    schedule_id: uuid.UUID,
    layer_id: uuid.UUID,
    spec: LayerSpec,
    now: datetime,
) -> on_call.LoadedSchedule:
    schedule = await _locked(session, actor, schedule_id)
    loaded = await on_call.load(session, schedule.id)
    view = next((view for view in loaded.layers if view.layer.id == layer_id), None)
    if view is None:
        raise NotFound("layer", layer_id)
    layer = view.layer
    before = on_call.domain_layer(view, loaded.zone).rotation
    if spec.name is not None:
        layer.name = _clean(spec.name, "name", 50)
    if spec.start is not None:
        layer.start_local = spec.start
    if spec.end is not None or spec.clear_end:
        layer.end_local = None if spec.clear_end else spec.end
    if spec.length is not None:
        layer.length_unit, layer.length_count = spec.length.unit, spec.length.count
    if spec.windows is not None:
        layer.restrictions = on_call.windows_to_json(spec.windows)
    participants = view.participants
    if spec.participants is not None and spec.participants != view.participants:
        participants = spec.participants
        await _check_participants(session, schedule.team_id, participants)
        layer.phase = rephase(before, _check_rotation(schedule, layer, participants), now)
        await _set_participants(session, layer.id, participants)
    _check_rotation(schedule, layer, participants)
    layer.updated_at = schedule.updated_at = now
    await session.flush()
    await _audit(
        session, actor, "schedule.layer_updated", schedule, now, _layer_details(layer, participants)
    )
    return await on_call.load(session, schedule.id)


async def delete_layer(
    session: AsyncSession,
    *,
    actor: Actor,
    schedule_id: uuid.UUID,
    layer_id: uuid.UUID,
    now: datetime,
) -> None:
    schedule = await _locked(session, actor, schedule_id)
    layer = await session.get(ScheduleLayer, layer_id)
    if layer is None or layer.schedule_id != schedule.id:
        raise NotFound("layer", layer_id)
    await session.delete(layer)
    await session.flush()
    await _renumber(session, schedule.id, None)
    schedule.updated_at = now
    await _audit(
        session, actor, "schedule.layer_deleted", schedule, now, {"layer_id": str(layer_id)}
    )


async def reorder_layers(
    session: AsyncSession,
    *,
    actor: Actor,
    schedule_id: uuid.UUID,
    layer_ids: Sequence[uuid.UUID],
    now: datetime,
) -> on_call.LoadedSchedule:
    """``layer_ids`` lists every layer of the schedule, top (highest priority) first."""
    schedule = await _locked(session, actor, schedule_id)
    await _renumber(session, schedule.id, list(layer_ids))
    schedule.updated_at = now
    await _audit(
        session,
        actor,
        "schedule.layers_reordered",
        schedule,
        now,
        {"layer_ids": [str(layer_id) for layer_id in layer_ids]},
    )
    return await on_call.load(session, schedule.id)


async def _renumber(
    session: AsyncSession, schedule_id: uuid.UUID, order: list[uuid.UUID] | None
) -> None:
    layers = (
        await session.scalars(
            sa.select(ScheduleLayer)
            .where(ScheduleLayer.schedule_id == schedule_id)
            .order_by(ScheduleLayer.position, ScheduleLayer.id)
        )
    ).all()
    by_id = {layer.id: layer for layer in layers}
    if order is not None and (len(order) != len(by_id) or set(order) != set(by_id)):
        raise InvalidInput("layer_ids", "list every layer of the schedule exactly once")
    for position, layer_id in enumerate(order if order is not None else list(by_id)):
        by_id[layer_id].position = position
    await session.flush()


async def _locked(session: AsyncSession, actor: Actor, schedule_id: uuid.UUID) -> Schedule:
    # Layer and override changes lock the schedule row: concurrent edits serialise, so
    # positions stay contiguous and the no-overlap check for overrides cannot be raced.
    schedule = await session.get(Schedule, schedule_id, with_for_update=True)
    if schedule is None:
        raise NotFound("schedule", schedule_id)
    authorize(actor.principal, Action.MANAGE_SCHEDULES, team_id=schedule.team_id)
    return schedule


async def check_on_call_members(
    session: AsyncSession, team_id: uuid.UUID, user_ids: Sequence[uuid.UUID], field: str
) -> None:
    """Refuse anyone who is not an active responder or admin of the team."""
    wanted = set(user_ids)
    if not wanted:
        return
    rows = await session.execute(
        sa.select(User.id, User.is_active, TeamMembership.role)
        .join(
            TeamMembership,
            sa.and_(TeamMembership.user_id == User.id, TeamMembership.team_id == team_id),
            isouter=True,
        )
        .where(User.id.in_(wanted))
    )
    found = {user_id: (active, role) for user_id, active, role in rows}
    for user_id in user_ids:
        if user_id not in found:
            raise NotFound("user", user_id)
        active, role = found[user_id]
        if not active:
            raise InvalidInput(field, f"user {user_id} is deactivated")
        if role is None or not role.at_least(TeamRole.RESPONDER):
            raise InvalidInput(field, f"user {user_id} is not a responder or admin of the team")


async def _check_participants(
    session: AsyncSession, team_id: uuid.UUID, participants: tuple[uuid.UUID, ...]
) -> None:
    if len(participants) > MAX_PARTICIPANTS:
        raise InvalidInput("participants", f"a layer has at most {MAX_PARTICIPANTS} participants")
    await check_on_call_members(session, team_id, participants, "participants")


def _check_rotation(
    schedule: Schedule, layer: ScheduleLayer, participants: tuple[uuid.UUID, ...]
) -> Rotation:
    """The layer's rotation with phase 0; ``InvalidInput`` if it cannot exist."""
    try:
        return Rotation(
            zone=ZoneInfo(schedule.time_zone),
            start=layer.start_local,
            length=RotationLength(layer.length_unit, layer.length_count),
            participants=participants,
            end=layer.end_local,
        )
    except ValueError as error:
        raise InvalidInput("end", str(error)) from error


async def _set_participants(
    session: AsyncSession, layer_id: uuid.UUID, participants: tuple[uuid.UUID, ...]
) -> None:
    await session.execute(
        sa.delete(ScheduleLayerParticipant).where(ScheduleLayerParticipant.layer_id == layer_id)
    )
    session.add_all(
        ScheduleLayerParticipant(layer_id=layer_id, position=position, user_id=user_id)
        for position, user_id in enumerate(participants)
    )
    await session.flush()


def _layer_details(layer: ScheduleLayer, participants: tuple[uuid.UUID, ...]) -> dict[str, object]:
    return {
        "layer_id": str(layer.id),
        "name": layer.name,
        "start": layer.start_local.isoformat(),
        "end": layer.end_local.isoformat() if layer.end_local else None,
        "length": f"{layer.length_count} {layer.length_unit.value}",
        "participants": [str(user_id) for user_id in participants],
        "restrictions": layer.restrictions,
        "phase": layer.phase,
    }


async def _audit(
    session: AsyncSession,
    actor: Actor,
    action: str,
    schedule: Schedule,
    now: datetime,
    details: dict[str, object],
) -> None:
    await audit.record(
        session,
        actor=actor,
        action=action,
        resource_type="schedule",
        resource_id=schedule.id,
        team_id=schedule.team_id,
        now=now,
        details=details,
    )


def _clean(value: str, field: str, limit: int) -> str:
    cleaned = " ".join(value.split())
    if not cleaned:
        raise InvalidInput(field, f"the {field} cannot be blank")
    if len(cleaned) > limit:
        raise InvalidInput(field, f"the {field} has at most {limit} characters")
    return cleaned
