"""Overrides and swaps: covering for someone, and trading shifts.

Any responder of the schedule's team may put a responder of the team on call for an
interval, in place of whoever is on call or of one named participant; the creator or a
team admin may take it away again. A swap trades two shifts between two participants: the
actor must be one of them (or a team admin), and each shift must really be that person's
in the current timeline, from start to end.

Overrides of one schedule never overlap. The check runs under a lock on the schedule row
(``FOR UPDATE``), so two concurrent requests cannot both pass it; the loser gets a 409
naming the override it clashes with.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from tocsin.actions import audit
from tocsin.actions.actors import Actor
from tocsin.actions.oncall import on_call
from tocsin.actions.oncall.schedules import check_on_call_members
from tocsin.db.models.schedules import Schedule, ScheduleOverride
from tocsin.domain.access import Action, authorize, is_allowed
from tocsin.domain.schedules import overrides, timeline
from tocsin.domain.schedules.overrides import OverrideKind
from tocsin.errors import Conflict, InvalidInput, NotFound, PermissionDenied

SWAP_REASON = "Shift swap"


@dataclass(frozen=True)
class ShiftClaim:
    """One side of a swap: ``user_id``'s shift ``[starts_at, ends_at)``."""

    user_id: uuid.UUID
    starts_at: datetime
    ends_at: datetime


async def create_override(
    session: AsyncSession,
    *,
    actor: Actor,
    schedule_id: uuid.UUID,
    user_id: uuid.UUID,
    starts_at: datetime,
    ends_at: datetime,
    now: datetime,
    replaces_user_id: uuid.UUID | None = None,
    reason: str = "",
) -> ScheduleOverride:
    schedule = await _locked(session, schedule_id)
    authorize(actor.principal, Action.CREATE_OVERRIDE, team_id=schedule.team_id)
    _check_interval(starts_at, ends_at, now)
    await check_on_call_members(session, schedule.team_id, [user_id], "user_id")
    if replaces_user_id is not None:
        if replaces_user_id == user_id:
            raise InvalidInput("replaces_user_id", "a person cannot cover for themself")
        loaded = await on_call.load(session, schedule.id)
        if not any(replaces_user_id in view.participants for view in loaded.layers):
            raise InvalidInput(
                "replaces_user_id", f"user {replaces_user_id} is not in this schedule's rotations"
            )
    await _refuse_overlap(session, schedule.id, starts_at, ends_at)
    row = _new(schedule, actor, user_id, replaces_user_id, starts_at, ends_at, reason, now)
    session.add(row)
    await session.flush()
    await _audit(session, actor, "schedule.override_created", schedule, now, [row])
    return row


async def create_swap(
    session: AsyncSession,
    *,
    actor: Actor,
    schedule_id: uuid.UUID,
    first: ShiftClaim,
    second: ShiftClaim,
    now: datetime,
    reason: str = "",
) -> tuple[ScheduleOverride, ScheduleOverride]:
    """``first.user_id`` takes ``second``'s shift and ``second.user_id`` takes ``first``'s."""
    schedule = await _locked(session, schedule_id)
    authorize(actor.principal, Action.CREATE_OVERRIDE, team_id=schedule.team_id)
    involved = {first.user_id, second.user_id}
    if len(involved) != 2:
        raise InvalidInput("second.user_id", "a swap is between two different people")
    if actor.user_id not in involved and not is_allowed(
        actor.principal, Action.MANAGE_OVERRIDES, team_id=schedule.team_id
    ):
        raise PermissionDenied(
            "only the two people swapping, or a team admin, may arrange a swap",
            action=Action.MANAGE_OVERRIDES.value,
        )
    for side, claim in (("first", first), ("second", second)):
        _check_interval(claim.starts_at, claim.ends_at, now, prefix=f"{side}.")
    if first.starts_at < second.ends_at and second.starts_at < first.ends_at:
        raise InvalidInput("second.starts_at", "the two shifts of a swap cannot overlap")
    await check_on_call_members(
        session, schedule.team_id, [first.user_id, second.user_id], "user_id"
    )
    loaded = await on_call.load(
        session,
        schedule.id,
        overrides_since=min(first.starts_at, second.starts_at),
        overrides_until=max(first.ends_at, second.ends_at),
    )
    rules = loaded.rules()
    for side, claim in (("first", first), ("second", second)):
        holders = timeline.render(rules, claim.starts_at, claim.ends_at)
        if any(segment.user_id != claim.user_id for segment in holders):
            raise Conflict(
                f"user {claim.user_id} is not on call for the whole of that shift",
                field=f"{side}.starts_at",
            )
    for claim in (first, second):
        await _refuse_overlap(session, schedule.id, claim.starts_at, claim.ends_at)
    swap_id = uuid.uuid4()
    text = reason.strip() or SWAP_REASON
    halves = (
        _new(
            schedule,
            actor,
            second.user_id,
            first.user_id,
            first.starts_at,
            first.ends_at,
            text,
            now,
        ),
        _new(
            schedule,
            actor,
            first.user_id,
            second.user_id,
            second.starts_at,
            second.ends_at,
            text,
            now,
        ),
    )
    for half in halves:
        half.kind, half.swap_id = OverrideKind.SWAP, swap_id
    session.add_all(halves)
    await session.flush()
    await _audit(session, actor, "schedule.swap_created", schedule, now, list(halves))
    return halves


async def delete_override(
    session: AsyncSession,
    *,
    actor: Actor,
    schedule_id: uuid.UUID,
    override_id: uuid.UUID,
    now: datetime,
) -> None:
    """Delete an override; deleting either half of a swap deletes both."""
    schedule = await _locked(session, schedule_id)
    row = await session.get(ScheduleOverride, override_id)
    if row is None or row.schedule_id != schedule.id:
        raise NotFound("override", override_id)
    own = actor.user_id is not None and row.created_by_user_id == actor.user_id
    action = Action.CREATE_OVERRIDE if own else Action.MANAGE_OVERRIDES
    authorize(actor.principal, action, team_id=schedule.team_id)
    rows = [row]
    if row.swap_id is not None:
        rows = list(
            (
                await session.scalars(
                    sa.select(ScheduleOverride).where(ScheduleOverride.swap_id == row.swap_id)
                )
            ).all()
        )
    for item in rows:
        await session.delete(item)
    await session.flush()
    await _audit(session, actor, "schedule.override_deleted", schedule, now, rows)


async def list_overrides(
    session: AsyncSession,
    *,
    actor: Actor,
    schedule_id: uuid.UUID,
    since: datetime,
    until: datetime,
) -> list[ScheduleOverride]:
    authorize(actor.principal, Action.READ_SCHEDULES)
    loaded = await on_call.load(session, schedule_id, overrides_since=since, overrides_until=until)
    return list(loaded.overrides)


async def _locked(session: AsyncSession, schedule_id: uuid.UUID) -> Schedule:
    # See the module docstring: the lock is what makes the overlap check race-free.
    schedule = await session.get(Schedule, schedule_id, with_for_update=True)
    if schedule is None:
        raise NotFound("schedule", schedule_id)
    return schedule


async def _refuse_overlap(
    session: AsyncSession, schedule_id: uuid.UUID, starts_at: datetime, ends_at: datetime
) -> None:
    existing = (
        await session.scalars(
            sa.select(ScheduleOverride).where(
                ScheduleOverride.schedule_id == schedule_id,
                ScheduleOverride.ends_at > starts_at,
                ScheduleOverride.starts_at < ends_at,
            )
        )
    ).all()
    clash = overrides.find_overlap(
        [on_call.domain_override(row) for row in existing], starts_at, ends_at
    )
    if clash is not None:
        raise Conflict(
            f"overlaps override {clash.id} ({clash.start.isoformat()} to {clash.end.isoformat()})",
            field="starts_at",
            conflicting_override={
                "id": str(clash.id),
                "user_id": str(clash.user_id),
                "starts_at": clash.start.isoformat(),
                "ends_at": clash.end.isoformat(),
            },
        )


def _check_interval(
    starts_at: datetime, ends_at: datetime, now: datetime, prefix: str = ""
) -> None:
    if ends_at <= starts_at:
        raise InvalidInput(f"{prefix}ends_at", "an override ends after it starts")
    # The past is what happened; an override cannot rewrite who was on call.
    if ends_at <= now:
        raise InvalidInput(f"{prefix}ends_at", "an override must end in the future")


def _new(
    schedule: Schedule,
    actor: Actor,
    user_id: uuid.UUID,
    replaces_user_id: uuid.UUID | None,
    starts_at: datetime,
    ends_at: datetime,
    reason: str,
    now: datetime,
) -> ScheduleOverride:
    cleaned = " ".join(reason.split())
    if len(cleaned) > 200:
        raise InvalidInput("reason", "a reason has at most 200 characters")
    return ScheduleOverride(
        id=uuid.uuid4(),
        schedule_id=schedule.id,
        user_id=user_id,
        replaces_user_id=replaces_user_id,
        starts_at=starts_at,
        ends_at=ends_at,
        reason=cleaned,
        kind=OverrideKind.OVERRIDE,
        created_by_user_id=actor.user_id,
        created_at=now,
    )


async def _audit(
    session: AsyncSession,
    actor: Actor,
    action: str,
    schedule: Schedule,
    now: datetime,
    rows: list[ScheduleOverride],
) -> None:
    await audit.record(
        session,
        actor=actor,
        action=action,
        resource_type="schedule",
        resource_id=schedule.id,
        team_id=schedule.team_id,
        now=now,
        details={
            "overrides": [
                {
                    "id": str(row.id),
                    "user_id": str(row.user_id),
                    "replaces_user_id": str(row.replaces_user_id) if row.replaces_user_id else None,
                    "starts_at": row.starts_at.isoformat(),
                    "ends_at": row.ends_at.isoformat(),
                    "kind": row.kind.value,
                }
                for row in rows
            ]
        },
    )
