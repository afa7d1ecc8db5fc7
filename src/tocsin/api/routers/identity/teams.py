from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Response

from tocsin.actions.identity import teams
from tocsin.api.schemas import problems
from tocsin.api.schemas.common import Page
from tocsin.api.schemas.identity.teams import (
    MemberAdd,
    MemberRead,
    MemberUpdate,
    TeamCreate,
    TeamRead,
    TeamUpdate,
)
from tocsin.db.models.teams import TeamMembership
from tocsin.db.models.users import User
from tocsin.http.deps import CurrentActor, DbSession, Now

router = APIRouter(prefix="/api/v1/teams", tags=["teams"], responses=problems.COMMON)
ONE = {**problems.NOT_FOUND, **problems.CONFLICT}


@router.get("", response_model=Page[TeamRead])
async def list_teams(
    session: DbSession,
    actor: CurrentActor,
    cursor: Annotated[str | None, Query(max_length=512)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> Page[TeamRead]:
    page = await teams.list_teams(session, actor=actor, cursor=cursor, limit=limit)
    return Page[TeamRead](
        items=[TeamRead.model_validate(team) for team in page.items], next_cursor=page.next_cursor
    )


@router.post("", status_code=201, response_model=TeamRead, responses=problems.CONFLICT)
async def create_team(
    body: TeamCreate, session: DbSession, actor: CurrentActor, now: Now
) -> TeamRead:
    team = await teams.create_team(
        session, actor=actor, name=body.name, description=body.description, now=now
    )
    return TeamRead.model_validate(team)


@router.get("/{team_id}", response_model=TeamRead, responses=problems.NOT_FOUND)
async def get_team(team_id: uuid.UUID, session: DbSession, actor: CurrentActor) -> TeamRead:
    return TeamRead.model_validate(await teams.get_team(session, actor=actor, team_id=team_id))


@router.patch("/{team_id}", response_model=TeamRead, responses=ONE)
async def update_team(
    team_id: uuid.UUID, body: TeamUpdate, session: DbSession, actor: CurrentActor, now: Now
) -> TeamRead:
    team = await teams.update_team(
        session, actor=actor, team_id=team_id, name=body.name, description=body.description, now=now
    )
    return TeamRead.model_validate(team)


@router.delete("/{team_id}", status_code=204, responses=ONE)
async def delete_team(
    team_id: uuid.UUID, session: DbSession, actor: CurrentActor, now: Now
) -> Response:
    await teams.delete_team(session, actor=actor, team_id=team_id, now=now)
    return Response(status_code=204)


@router.get("/{team_id}/members", response_model=list[MemberRead], responses=problems.NOT_FOUND)
async def list_members(
    team_id: uuid.UUID, session: DbSession, actor: CurrentActor
) -> list[MemberRead]:
    rows = await teams.list_members(session, actor=actor, team_id=team_id)
    return [_member(membership, user) for membership, user in rows]


@router.post("/{team_id}/members", status_code=201, response_model=MemberRead, responses=ONE)
async def add_member(
    team_id: uuid.UUID, body: MemberAdd, session: DbSession, actor: CurrentActor, now: Now
) -> MemberRead:
    membership = await teams.add_member(
        session, actor=actor, team_id=team_id, user_id=body.user_id, role=body.role, now=now
    )
    user = await session.get(User, membership.user_id)
    assert user is not None  # add_member checked it exists, in this transaction
    return _member(membership, user)


@router.patch("/{team_id}/members/{user_id}", response_model=MemberRead, responses=ONE)
async def change_role(
    team_id: uuid.UUID,
    user_id: uuid.UUID,
    body: MemberUpdate,
    session: DbSession,
    actor: CurrentActor,
    now: Now,
) -> MemberRead:
    membership = await teams.change_role(
        session, actor=actor, team_id=team_id, user_id=user_id, role=body.role, now=now
    )
    user = await session.get(User, user_id)
    assert user is not None  # memberships cascade-delete with their user
    return _member(membership, user)


@router.delete("/{team_id}/members/{user_id}", status_code=204, responses=ONE)
async def remove_member(
    team_id: uuid.UUID, user_id: uuid.UUID, session: DbSession, actor: CurrentActor, now: Now
) -> Response:
    await teams.remove_member(session, actor=actor, team_id=team_id, user_id=user_id, now=now)
    return Response(status_code=204)


def _member(membership: TeamMembership, user: User) -> MemberRead:
    return MemberRead(
        user_id=user.id,
        email=user.email,
        name=user.name,
        role=membership.role,
        joined_at=membership.created_at,
    )
