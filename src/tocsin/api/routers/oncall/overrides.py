"""Overrides and swaps of a schedule."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Query, Response

from tocsin.actions.oncall import overrides
from tocsin.api.schemas import problems
from tocsin.api.schemas.common import Instant
from tocsin.api.schemas.oncall import OverrideCreate, OverrideRead, SwapCreate
from tocsin.http.deps import CurrentActor, DbSession, Now

router = APIRouter(
    prefix="/api/v1/schedules/{schedule_id}", tags=["schedules"], responses=problems.COMMON
)
ONE = {**problems.NOT_FOUND, **problems.CONFLICT}


@router.get("/overrides", response_model=list[OverrideRead], responses=problems.NOT_FOUND)
async def list_overrides(
    schedule_id: uuid.UUID,
    session: DbSession,
    actor: CurrentActor,
    now: Now,
    since: Annotated[Instant | None, Query(description="Default: now")] = None,
    until: Annotated[Instant | None, Query(description="Default: 90 days on")] = None,
) -> list[OverrideRead]:
    start = since or now
    rows = await overrides.list_overrides(
        session,
        actor=actor,
        schedule_id=schedule_id,
        since=start,
        until=until or start + timedelta(days=90),
    )
    return [OverrideRead.model_validate(row) for row in rows]


@router.post("/overrides", status_code=201, response_model=OverrideRead, responses=ONE)
async def create_override(
    schedule_id: uuid.UUID, body: OverrideCreate, session: DbSession, actor: CurrentActor, now: Now
) -> OverrideRead:
    """Refused with 409 when it overlaps another override of the schedule; the problem's
    `conflicting_override` names it."""
    row = await overrides.create_override(
        session,
        actor=actor,
        schedule_id=schedule_id,
        user_id=body.user_id,
        starts_at=body.starts_at,
        ends_at=body.ends_at,
        replaces_user_id=body.replaces_user_id,
        reason=body.reason,
        now=now,
    )
    return OverrideRead.model_validate(row)


@router.delete("/overrides/{override_id}", status_code=204, responses=ONE)
async def delete_override(
    schedule_id: uuid.UUID,
    override_id: uuid.UUID,
    session: DbSession,
    actor: CurrentActor,
    now: Now,
) -> Response:
    """Deleting either half of a swap deletes both."""
    await overrides.delete_override(
        session, actor=actor, schedule_id=schedule_id, override_id=override_id, now=now
    )
    return Response(status_code=204)


@router.post("/swaps", status_code=201, response_model=list[OverrideRead], responses=ONE)
async def create_swap(
    schedule_id: uuid.UUID, body: SwapCreate, session: DbSession, actor: CurrentActor, now: Now
) -> list[OverrideRead]:
    """Two participants trade shifts. Each shift must be wholly that person's in the
    current timeline (409 otherwise); the result is two overrides sharing a `swap_id`."""
    halves = await overrides.create_swap(
        session,
        actor=actor,
        schedule_id=schedule_id,
        first=overrides.ShiftClaim(body.first.user_id, body.first.starts_at, body.first.ends_at),
        second=overrides.ShiftClaim(
            body.second.user_id, body.second.starts_at, body.second.ends_at
        ),
        reason=body.reason,
        now=now,
    )
    return [OverrideRead.model_validate(half) for half in halves]
