"""The shared places incidents are posted to (a Slack channel, a Teams Workflows
webhook): naming them, listing them, removing them, for a service or for a team.

A service's places get its own incidents; a team's places get the incidents of every
service of the team; a service's incidents go to both (``actions/notify/follow_ups.py``).
A place is named by a team admin of the owning team (the same right as changing its
services: posts show their incidents to whoever reads the place). The address is checked
by its channel before it comes here (``ChannelPackage.post_address``) and stored
encrypted; listings show it masked, since a Workflows URL is itself a credential. Posting
is the engine's follow-up lane (``engine/follow_ups.py``); incidents created from now on
are posted, earlier ones are not (a new channel is not flooded with history).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from tocsin.actions import audit
from tocsin.actions.actors import Actor
from tocsin.actions.services.services import clean_text
from tocsin.db.models.follow_ups import PostTarget
from tocsin.db.models.services import Service
from tocsin.db.models.teams import Team
from tocsin.domain.access import Action, authorize
from tocsin.domain.channels import ChannelKind
from tocsin.errors import InvalidInput, NotFound
from tocsin.security.encryption import Cipher

# More places than this per service (or team) is a mistake, not a plan.
MAX_PER_SERVICE = 10


@dataclass(frozen=True)
class Owner:
    """Whose places: one service's (``service_id``) or a team's (``team_id``)."""

    service_id: uuid.UUID | None = None
    team_id: uuid.UUID | None = None


@dataclass(frozen=True)
class _Loaded:
    kind: str  # "service" or "team", as audited and as named in errors
    id: uuid.UUID
    team_id: uuid.UUID
    column: Any  # the ``post_target`` column naming this owner


async def add_target(
    session: AsyncSession,
    *,
    actor: Actor,
    cipher: Cipher,
    owner: Owner,
    kind: ChannelKind,
    address: str,
    label: str,
    now: datetime,
) -> PostTarget:
    found = await _owner(session, owner, lock=True)
    authorize(actor.principal, Action.MANAGE_SERVICES, team_id=found.team_id)
    count = await session.scalar(sa.select(sa.func.count()).where(found.column == found.id))
    if (count or 0) >= MAX_PER_SERVICE:
        raise InvalidInput(
            f"{found.kind}_id", f"a {found.kind} posts to at most {MAX_PER_SERVICE} places"
        )
    target = PostTarget(
        id=uuid.uuid4(),
        service_id=owner.service_id,
        team_id=owner.team_id,
        kind=kind,
        label=clean_text(label, "label", 100),
        address_encrypted=cipher.encrypt(address),
        details={},
        created_at=now,
        updated_at=now,
    )
    session.add(target)
    await session.flush()
    await _audit(session, actor, "post_target.added", target, found, now)
    return target


async def list_targets(session: AsyncSession, *, actor: Actor, owner: Owner) -> list[PostTarget]:
    found = await _owner(session, owner, lock=False)
    authorize(actor.principal, Action.READ_SERVICES)
    rows = await session.scalars(
        sa.select(PostTarget)
        .where(found.column == found.id)
        .order_by(PostTarget.created_at, PostTarget.id)
    )
    return list(rows.all())


async def remove_target(
    session: AsyncSession,
    *,
    actor: Actor,
    owner: Owner,
    target_id: uuid.UUID,
    now: datetime,
) -> None:
    found = await _owner(session, owner, lock=False)
    authorize(actor.principal, Action.MANAGE_SERVICES, team_id=found.team_id)
    target = await session.scalar(
        sa.select(PostTarget).where(PostTarget.id == target_id, found.column == found.id)
    )
    if target is None:
        raise NotFound("post target", target_id)
    await session.delete(target)
    await session.flush()
    await _audit(session, actor, "post_target.removed", target, found, now)


def masked(address: str) -> str:
    """Enough of an address to recognise it, never enough to use it."""
    if len(address) <= 16:
        return address
    return f"{address[:24]}…{address[-4:]}"


async def _owner(session: AsyncSession, owner: Owner, *, lock: bool) -> _Loaded:
    if (owner.service_id is None) == (owner.team_id is None):
        raise InvalidInput("owner", "name either a service or a team")
    if owner.service_id is not None:
        query = sa.select(Service.id, Service.team_id).where(Service.id == owner.service_id)
        if lock:
            # Serialises concurrent additions to one service, so the count above holds.
            query = query.with_for_update()
        row = (await session.execute(query)).first()
        if row is None:
            raise NotFound("service", owner.service_id)
        return _Loaded("service", row.id, row.team_id, PostTarget.service_id)
    team_query = sa.select(Team.id).where(Team.id == owner.team_id)
    if lock:
        team_query = team_query.with_for_update()
    team_id = await session.scalar(team_query)
    if team_id is None:
        raise NotFound("team", owner.team_id)
    return _Loaded("team", team_id, team_id, PostTarget.team_id)


async def _audit(
    session: AsyncSession,
    actor: Actor,
    action: str,
    target: PostTarget,
    owner: _Loaded,
    now: datetime,
) -> None:
    await audit.record(
        session,
        actor=actor,
        action=action,
        resource_type=owner.kind,
        resource_id=owner.id,
        team_id=owner.team_id,
        now=now,
        details={"target_id": str(target.id), "kind": target.kind.value, "label": target.label},
    )
