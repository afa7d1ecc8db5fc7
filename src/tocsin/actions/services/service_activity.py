"""What happened on a service lately: the change events (deploys, config pushes) tools
reported, for the "what changed just before this broke?" question on its page."""

from __future__ import annotations

import uuid

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from tocsin.actions.actors import Actor
from tocsin.db.models.services import ChangeEvent
from tocsin.domain.access import Action, authorize


async def recent_change_events(
    session: AsyncSession, *, actor: Actor, service_id: uuid.UUID, limit: int = 20
) -> list[ChangeEvent]:
    """The latest change events of the service, newest first."""
    authorize(actor.principal, Action.READ_SERVICES)
    rows = await session.scalars(
        sa.select(ChangeEvent)
        .where(ChangeEvent.service_id == service_id)
        .order_by(ChangeEvent.occurred_at.desc(), ChangeEvent.id)
        .limit(limit)
    )
    return list(rows.all())
