"""Escalation policies: ordered levels of targets, each waiting for an acknowledgement."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Response

from tocsin.actions.escalation import policies
from tocsin.api.schemas import problems
from tocsin.api.schemas.common import Page
from tocsin.api.schemas.escalation import (
    LevelBody,
    LevelRead,
    PolicyCreate,
    PolicyRead,
    PolicyReplace,
    PolicyUpdate,
    TargetRead,
)
from tocsin.domain.escalation import LevelSnapshot, Target
from tocsin.http.deps import CurrentActor, DbSession, Now

router = APIRouter(
    prefix="/api/v1/escalation-policies", tags=["escalation policies"], responses=problems.COMMON
)
ONE = {**problems.NOT_FOUND, **problems.CONFLICT}


@router.get("", response_model=Page[PolicyRead])
async def list_policies(
    session: DbSession,
    actor: CurrentActor,
    team_id: uuid.UUID | None = None,
    cursor: Annotated[str | None, Query(max_length=512)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> Page[PolicyRead]:
    page = await policies.list_policies(
        session, actor=actor, team_id=team_id, cursor=cursor, limit=limit
    )
    return Page[PolicyRead](
        items=[_read(item) for item in page.items], next_cursor=page.next_cursor
    )


@router.post("", status_code=201, response_model=PolicyRead, responses=problems.CONFLICT)
async def create_policy(
    body: PolicyCreate, session: DbSession, actor: CurrentActor, now: Now
) -> PolicyRead:
    loaded = await policies.create_policy(
        session,
        actor=actor,
        team_id=body.team_id,
        name=body.name,
        description=body.description,
        repeat_count=body.repeat_count,
        levels=_levels(body.levels),
        now=now,
    )
    return _read(loaded)


@router.get("/{policy_id}", response_model=PolicyRead, responses=problems.NOT_FOUND)
async def get_policy(policy_id: uuid.UUID, session: DbSession, actor: CurrentActor) -> PolicyRead:
    return _read(await policies.get_policy(session, actor=actor, policy_id=policy_id))


@router.put("/{policy_id}", response_model=PolicyRead, responses=ONE)
async def replace_policy(
    policy_id: uuid.UUID, body: PolicyReplace, session: DbSession, actor: CurrentActor, now: Now
) -> PolicyRead:
    """Incidents already open keep escalating by the policy as it was when they opened."""
    changes = policies.PolicyChanges(
        name=body.name,
        description=body.description,
        repeat_count=body.repeat_count,
        levels=_levels(body.levels),
    )
    loaded = await policies.update_policy(
        session, actor=actor, policy_id=policy_id, changes=changes, now=now
    )
    return _read(loaded)


@router.patch("/{policy_id}", response_model=PolicyRead, responses=ONE)
async def update_policy(
    policy_id: uuid.UUID, body: PolicyUpdate, session: DbSession, actor: CurrentActor, now: Now
) -> PolicyRead:
    """Incidents already open keep escalating by the policy as it was when they opened."""
    changes = policies.PolicyChanges(
        name=body.name,
        description=body.description,
        repeat_count=body.repeat_count,
        levels=None if body.levels is None else _levels(body.levels),
    )
    loaded = await policies.update_policy(
        session, actor=actor, policy_id=policy_id, changes=changes, now=now
    )
    return _read(loaded)


@router.delete("/{policy_id}", status_code=204, responses=ONE)
async def delete_policy(
    policy_id: uuid.UUID, session: DbSession, actor: CurrentActor, now: Now
) -> Response:
    """Refused (409, naming them) while a service uses the policy."""
    await policies.delete_policy(session, actor=actor, policy_id=policy_id, now=now)
    return Response(status_code=204)


def _levels(bodies: list[LevelBody]) -> list[LevelSnapshot]:
    return [
        LevelSnapshot(
            delay_minutes=body.delay_minutes,
            targets=tuple(Target(target.kind, target.id) for target in body.targets),
        )
        for body in bodies
    ]


def _read(loaded: policies.LoadedPolicy) -> PolicyRead:
    policy = loaded.policy
    return PolicyRead(
        id=policy.id,
        team_id=policy.team_id,
        name=policy.name,
        description=policy.description,
        repeat_count=policy.repeat_count,
        levels=[
            LevelRead(
                position=position,
                delay_minutes=level.delay_minutes,
                targets=[TargetRead(kind=target.kind, id=target.id) for target in level.targets],
            )
            for position, level in enumerate(loaded.levels, start=1)
        ],
        created_at=policy.created_at,
        updated_at=policy.updated_at,
    )
