"""Building the ``Principal`` of a signed-in user: their platform flag and team roles."""

from __future__ import annotations

import uuid

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from tocsin.db.models.teams import TeamMembership
from tocsin.db.models.users import User
from tocsin.domain.access import Principal, PrincipalKind, TeamRole


async def user_principal(session: AsyncSession, user: User) -> Principal:
    return Principal(
        kind=PrincipalKind.USER,
        id=user.id,
        label=user.email,
        is_platform_admin=user.is_platform_admin,
        team_roles=await team_roles_of(session, user.id),
    )


async def team_roles_of(session: AsyncSession, user_id: uuid.UUID) -> dict[uuid.UUID, TeamRole]:
    rows = await session.execute(
        sa.select(TeamMembership.team_id, TeamMembership.role).where(
            TeamMembership.user_id == user_id
        )
    )
    return {team_id: role for team_id, role in rows}
