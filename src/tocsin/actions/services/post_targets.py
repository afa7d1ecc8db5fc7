"""The shared places a service posts its incidents to (a Slack channel, a Teams Workflows
webhook): naming them, listing them, removing them.

A place is named by a team admin of the service's team (the same right as changing the
service: posts show its incidents to whoever reads the place). The address is checked by
its channel before it comes here (``ChannelPackage.post_address``) and stored encrypted;
listings show it masked, since a Workflows URL is itself a credential. Posting is the
engine's follow-up lane (``engine/follow_ups.py``); incidents created from now on are
posted, earlier ones are not (a new channel is not flooded with history).
"""

from __future__ import annotations

import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from tocsin.actions import audit
from tocsin.actions.actors import Actor
from tocsin.actions.services.services import clean_text
from tocsin.db.models.follow_ups import PostTarget
from tocsin.db.models.services import Service
from tocsin.domain.access import Action, authorize
from tocsin.domain.channels import ChannelKind
from tocsin.errors import InvalidInput, NotFound
from tocsin.security.encryption import Cipher

# More places than this per service is a mistake, not a plan.
MAX_PER_SERVICE = 10


async def add_target(
    session: AsyncSession,
    *,
    actor: Actor,
    cipher: Cipher,
    service_id: uuid.UUID,
    kind: ChannelKind,
    address: str,
    label: str,
    now: datetime,
) -> PostTarget:
    service = await _service(session, service_id, lock=True)
    authorize(actor.principal, Action.MANAGE_SERVICES, team_id=service.team_id)
    count = await session.scalar(
        sa.select(sa.func.count()).where(PostTarget.service_id == service_id)
    )
    if (count or 0) >= MAX_PER_SERVICE:
        raise InvalidInput("service_id", f"a service posts to at most {MAX_PER_SERVICE} places")
    target = PostTarget(
        id=uuid.uuid4(),
        service_id=service_id,
        kind=kind,
        label=clean_text(label, "label", 100),
        address_encrypted=cipher.encrypt(address),
        details={},
        created_at=now,
        updated_at=now,
    )
    session.add(target)
    await session.flush()
    await _audit(session, actor, "post_target.added", target, service, now)
    return target


async def list_targets(
    session: AsyncSession, *, actor: Actor, service_id: uuid.UUID
) -> list[PostTarget]:
    await _service(session, service_id, lock=False)
    authorize(actor.principal, Action.READ_SERVICES)
    rows = await session.scalars(
        sa.select(PostTarget)
        .where(PostTarget.service_id == service_id)
        .order_by(PostTarget.created_at, PostTarget.id)
    )
    return list(rows.all())


async def remove_target(
    session: AsyncSession,
    *,
    actor: Actor,
    service_id: uuid.UUID,
    target_id: uuid.UUID,
    now: datetime,
) -> None:
    service = await _service(session, service_id, lock=False)
    authorize(actor.principal, Action.MANAGE_SERVICES, team_id=service.team_id)
    target = await session.scalar(
        sa.select(PostTarget).where(PostTarget.id == target_id, PostTarget.service_id == service_id)
    )
    if target is None:
        raise NotFound("post target", target_id)
    await session.delete(target)
    await session.flush()
    await _audit(session, actor, "post_target.removed", target, service, now)


def masked(address: str) -> str:
    """Enough of an address to recognise it, never enough to use it."""
    if len(address) <= 16:
        return address
    return f"{address[:24]}…{address[-4:]}"


async def _service(session: AsyncSession, service_id: uuid.UUID, *, lock: bool) -> Service:
    query = sa.select(Service).where(Service.id == service_id)
    if lock:
        # Serialises concurrent additions to one service, so the count above holds.
        query = query.with_for_update()
    service = await session.scalar(query)
    if service is None:
        raise NotFound("service", service_id)
    return service


async def _audit(
    session: AsyncSession,
    actor: Actor,
    action: str,
    target: PostTarget,
    service: Service,
    now: datetime,
) -> None:
    await audit.record(
        session,
        actor=actor,
        action=action,
        resource_type="service",
        resource_id=service.id,
        team_id=service.team_id,
        now=now,
        details={"target_id": str(target.id), "kind": target.kind.value, "label": target.label},
    )
