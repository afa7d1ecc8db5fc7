"""Names for display: the people, services, teams, policies and schedules a page mentions.

Pages show rows that refer to others by id (a page names a user, an incident its service,
a timeline event whoever it paged). Looking each one up would cost a query per row, so the
page gathers the ids it shows and asks here once per kind. Everything here is readable by
anyone signed in; each function checks the matching read right all the same.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection
from typing import TypeVar

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from tocsin.actions.actors import Actor
from tocsin.db.base import Base
from tocsin.db.models.escalation_policies import EscalationPolicy
from tocsin.db.models.schedules import Schedule
from tocsin.db.models.services import Service
from tocsin.db.models.teams import Team
from tocsin.db.models.users import User
from tocsin.domain.access import Action, authorize

Row = TypeVar("Row", bound=Base)


async def users(
    session: AsyncSession, *, actor: Actor, ids: Collection[uuid.UUID | None]
) -> dict[uuid.UUID, User]:
    authorize(actor.principal, Action.READ_USERS)
    return await _by_id(session, User, User.id, ids)


async def services(
    session: AsyncSession, *, actor: Actor, ids: Collection[uuid.UUID | None]
) -> dict[uuid.UUID, Service]:
    authorize(actor.principal, Action.READ_SERVICES)
    return await _by_id(session, Service, Service.id, ids)


async def teams(
    session: AsyncSession, *, actor: Actor, ids: Collection[uuid.UUID | None]
) -> dict[uuid.UUID, Team]:
    authorize(actor.principal, Action.READ_TEAMS)
    return await _by_id(session, Team, Team.id, ids)


async def policies(
    session: AsyncSession, *, actor: Actor, ids: Collection[uuid.UUID | None]
) -> dict[uuid.UUID, EscalationPolicy]:
    authorize(actor.principal, Action.READ_POLICIES)
    return await _by_id(session, EscalationPolicy, EscalationPolicy.id, ids)


async def schedules(
    session: AsyncSession, *, actor: Actor, ids: Collection[uuid.UUID | None]
) -> dict[uuid.UUID, Schedule]:
    authorize(actor.principal, Action.READ_SCHEDULES)
    return await _by_id(session, Schedule, Schedule.id, ids)


async def all_teams(session: AsyncSession, *, actor: Actor) -> list[Team]:
    """Every team by name, for the team choice of a form (installations have few)."""
    authorize(actor.principal, Action.READ_TEAMS)
    return list((await session.scalars(sa.select(Team).order_by(Team.name))).all())


async def active_users(session: AsyncSession, *, actor: Actor) -> list[User]:
    """Every active person by name, for the person choice of a form."""
    authorize(actor.principal, Action.READ_USERS)
    return list(
        (
            await session.scalars(
                sa.select(User).where(User.is_active.is_(True)).order_by(User.name, User.id)
            )
        ).all()
    )


async def all_services(session: AsyncSession, *, actor: Actor) -> list[Service]:
    authorize(actor.principal, Action.READ_SERVICES)
    return list((await session.scalars(sa.select(Service).order_by(Service.name))).all())


async def all_policies(session: AsyncSession, *, actor: Actor) -> list[EscalationPolicy]:
    authorize(actor.principal, Action.READ_POLICIES)
    return list(
        (
            await session.scalars(
                sa.select(EscalationPolicy).order_by(EscalationPolicy.name, EscalationPolicy.id)
            )
        ).all()
    )


async def all_schedules(session: AsyncSession, *, actor: Actor) -> list[Schedule]:
    authorize(actor.principal, Action.READ_SCHEDULES)
    return list(
        (await session.scalars(sa.select(Schedule).order_by(Schedule.name, Schedule.id))).all()
    )


async def _by_id(
    session: AsyncSession,
    model: type[Row],
    key: InstrumentedAttribute[uuid.UUID],
    ids: Collection[uuid.UUID | None],
) -> dict[uuid.UUID, Row]:
    wanted = {value for value in ids if value is not None}
    if not wanted:
        return {}
    rows = await session.execute(sa.select(key, model).where(key.in_(wanted)))
    return {row_id: row for row_id, row in rows}
