"""Teams and their members.

Platform admins create and delete teams (the person creating one becomes its first admin
member); a team's admins change its name and description and manage who is on it, with
which role. A team always keeps at least one admin, unless a platform admin removes the
last one on purpose.
"""

from __future__ import annotations

import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from tocsin.actions import audit, references
from tocsin.actions.actors import Actor
from tocsin.db import keyset
from tocsin.db.constraints import flush_restricted, flush_unique
from tocsin.db.models.teams import Team, TeamMembership
from tocsin.db.models.users import User
from tocsin.domain.access import Action, PrincipalKind, TeamRole, authorize
from tocsin.errors import AlreadyExists, Conflict, InvalidInput, NotFound

_NAME_UNIQUE = "uq_team_name_lower"


async def create_team(
    session: AsyncSession, *, actor: Actor, name: str, description: str = "", now: datetime
) -> Team:
    authorize(actor.principal, Action.CREATE_TEAM)
    team = Team(
        id=uuid.uuid4(),
        name=_clean_name(name),
        description=description.strip(),
        created_at=now,
        updated_at=now,
    )
    session.add(team)
    await flush_unique(session, resource="team", fields={_NAME_UNIQUE: ("name", team.name)})
    await audit.record(
        session,
        actor=actor,
        action="team.created",
        resource_type="team",
        resource_id=team.id,
        team_id=team.id,
        now=now,
        details={"name": team.name},
    )
    if actor.user_id is not None:
        # The person who made the team runs it: without this they could not add its
        # members, and a team nobody manages is a dead end (PagerDuty and OnCall do the same).
        session.add(
            TeamMembership(
                team_id=team.id,
                user_id=actor.user_id,
                role=TeamRole.ADMIN,
                created_at=now,
                updated_at=now,
            )
        )
        await session.flush()
        await audit.record(
            session,
            actor=actor,
            action="team.member_added",
            resource_type="team",
            resource_id=team.id,
            team_id=team.id,
            now=now,
            details={"user_id": str(actor.user_id), "role": TeamRole.ADMIN.value},
        )
    return team


async def update_team(
    session: AsyncSession,
    *,
    actor: Actor,
    team_id: uuid.UUID,
    name: str | None,
    description: str | None,
    now: datetime,
) -> Team:
    team = await _locked_team(session, team_id)
    authorize(actor.principal, Action.MANAGE_TEAM, team_id=team.id)
    changed: list[str] = []
    if name is not None and _clean_name(name) != team.name:
        team.name = _clean_name(name)
        changed.append("name")
    if description is not None and description.strip() != team.description:
        team.description = description.strip()
        changed.append("description")
    if not changed:
        return team
    team.updated_at = now
    await flush_unique(session, resource="team", fields={_NAME_UNIQUE: ("name", team.name)})
    await audit.record(
        session,
        actor=actor,
        action="team.updated",
        resource_type="team",
        resource_id=team.id,
        team_id=team.id,
        now=now,
        details={"changed": changed},
    )
    return team


async def delete_team(
    session: AsyncSession, *, actor: Actor, team_id: uuid.UUID, now: datetime
) -> None:
    authorize(actor.principal, Action.DELETE_TEAM)
    team = await _locked_team(session, team_id)
    await references.refuse_if_team_in_use(session, team.id, team.name)
    await session.delete(team)
    await flush_restricted(session, detail=f"team {team.name!r} is still in use")
    await audit.record(
        session,
        actor=actor,
        action="team.deleted",
        resource_type="team",
        resource_id=team_id,
        team_id=team_id,
        now=now,
        details={"name": team.name},
    )


async def add_member(
    session: AsyncSession,
    *,
    actor: Actor,
    team_id: uuid.UUID,
    user_id: uuid.UUID,
    role: TeamRole,
    now: datetime,
) -> TeamMembership:
    team = await _locked_team(session, team_id)
    authorize(actor.principal, Action.MANAGE_TEAM, team_id=team.id)
    user = await session.get(User, user_id)
    if user is None:
        raise NotFound("user", user_id)
    if not user.is_active:
        raise InvalidInput("user_id", f"{user.email} is deactivated")
    if await session.get(TeamMembership, (team_id, user_id)) is not None:
        raise AlreadyExists("team membership", "user_id", user_id)
    membership = TeamMembership(
        team_id=team_id, user_id=user_id, role=role, created_at=now, updated_at=now
    )
    session.add(membership)
    await flush_unique(
        session,
        resource="team membership",
        fields={"pk_team_membership": ("user_id", user_id)},
    )
    await audit.record(
        session,
        actor=actor,
        action="team.member_added",
        resource_type="team",
        resource_id=team_id,
        team_id=team_id,
        now=now,
        details={"user_id": str(user_id), "role": role.value},
    )
    return membership


async def change_role(
    session: AsyncSession,
    *,
    actor: Actor,
    team_id: uuid.UUID,
    user_id: uuid.UUID,
    role: TeamRole,
    now: datetime,
) -> TeamMembership:
    await _locked_team(session, team_id)
    authorize(actor.principal, Action.MANAGE_TEAM, team_id=team_id)
    membership = await _membership(session, team_id, user_id)
    if membership.role is role:
        return membership
    if membership.role is TeamRole.ADMIN:
        await _refuse_if_last_team_admin(session, actor, team_id)
    previous = membership.role
    membership.role = role
    membership.updated_at = now
    await session.flush()
    await audit.record(
        session,
        actor=actor,
        action="team.member_role_changed",
        resource_type="team",
        resource_id=team_id,
        team_id=team_id,
        now=now,
        details={"user_id": str(user_id), "from": previous.value, "to": role.value},
    )
    return membership


async def remove_member(
    session: AsyncSession, *, actor: Actor, team_id: uuid.UUID, user_id: uuid.UUID, now: datetime
) -> None:
    await _locked_team(session, team_id)
    authorize(actor.principal, Action.MANAGE_TEAM, team_id=team_id)
    membership = await _membership(session, team_id, user_id)
    if membership.role is TeamRole.ADMIN:
        await _refuse_if_last_team_admin(session, actor, team_id)
    await session.delete(membership)
    await session.flush()
    await audit.record(
        session,
        actor=actor,
        action="team.member_removed",
        resource_type="team",
        resource_id=team_id,
        team_id=team_id,
        now=now,
        details={"user_id": str(user_id), "role": membership.role.value},
    )


async def get_team(session: AsyncSession, *, actor: Actor, team_id: uuid.UUID) -> Team:
    authorize(actor.principal, Action.READ_TEAMS)
    team = await session.get(Team, team_id)
    if team is None:
        raise NotFound("team", team_id)
    return team


async def list_teams(
    session: AsyncSession, *, actor: Actor, cursor: str | None, limit: int
) -> keyset.Page[Team]:
    authorize(actor.principal, Action.READ_TEAMS)
    return await keyset.fetch_page(
        session, sa.select(Team), key=Team.id, cursor=cursor, limit=limit
    )


async def list_members(
    session: AsyncSession, *, actor: Actor, team_id: uuid.UUID
) -> list[tuple[TeamMembership, User]]:
    await get_team(session, actor=actor, team_id=team_id)
    rows = await session.execute(
        sa.select(TeamMembership, User)
        .join(User, User.id == TeamMembership.user_id)
        .where(TeamMembership.team_id == team_id)
        .order_by(User.name, User.id)
    )
    return [(membership, user) for membership, user in rows]


async def _locked_team(session: AsyncSession, team_id: uuid.UUID) -> Team:
    # Membership changes lock the team row: concurrent role changes on one team serialise,
    # so the "keep one admin" check cannot be raced.
    team = await session.get(Team, team_id, with_for_update=True)
    if team is None:
        raise NotFound("team", team_id)
    return team


async def _membership(
    session: AsyncSession, team_id: uuid.UUID, user_id: uuid.UUID
) -> TeamMembership:
    membership = await session.get(TeamMembership, (team_id, user_id))
    if membership is None:
        raise NotFound("team membership", user_id)
    return membership


async def _refuse_if_last_team_admin(
    session: AsyncSession, actor: Actor, team_id: uuid.UUID
) -> None:
    if actor.principal.is_platform_admin or actor.principal.kind is not PrincipalKind.USER:
        return
    admins = await session.scalar(
        sa.select(sa.func.count())
        .select_from(TeamMembership)
        .where(TeamMembership.team_id == team_id, TeamMembership.role == TeamRole.ADMIN)
    )
    if (admins or 0) <= 1:
        raise Conflict(
            "a team keeps at least one admin; make someone else admin first", field="role"
        )


def _clean_name(name: str) -> str:
    cleaned = " ".join(name.split())
    if not cleaned:
        raise InvalidInput("name", "a team name cannot be blank")
    if len(cleaned) > 100:
        raise InvalidInput("name", "a team name has at most 100 characters")
    return cleaned


async def teams_of_user(
    session: AsyncSession, *, actor: Actor, user_id: uuid.UUID
) -> list[tuple[Team, TeamRole]]:
    authorize(actor.principal, Action.READ_TEAMS)
    rows = await session.execute(
        sa.select(Team, TeamMembership.role)
        .join(TeamMembership, TeamMembership.team_id == Team.id)
        .where(TeamMembership.user_id == user_id)
        .order_by(Team.name)
    )
    return [(team, role) for team, role in rows]
