"""The local outbox: storing mail delivered to it, and showing it to platform admins."""

from __future__ import annotations

import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from tocsin.actions.actors import Actor
from tocsin.db.models.deliveries import OutboxMessage
from tocsin.domain.access import Action, authorize


async def store(
    session: AsyncSession,
    *,
    message_id: str,
    recipient: str,
    subject: str,
    text: str,
    html: str,
    raw: str,
    now: datetime,
) -> uuid.UUID:
    """Keep a mail delivered to the outbox: its parts as sent, and the whole message."""
    row = OutboxMessage(
        id=uuid.uuid4(),
        message_id=message_id[:256],
        recipient=recipient[:320],
        subject=subject[:1000],
        text_body=text,
        html_body=html,
        raw=raw,
        created_at=now,
    )
    session.add(row)
    await session.flush()
    return row.id


async def list_messages(
    session: AsyncSession, *, actor: Actor, limit: int = 100
) -> list[OutboxMessage]:
    """Newest first. Mail holds action links for its recipient: platform admins only."""
    authorize(actor.principal, Action.MANAGE_USERS)
    return list(
        (
            await session.scalars(
                sa.select(OutboxMessage).order_by(OutboxMessage.created_at.desc()).limit(limit)
            )
        ).all()
    )


async def get_message(
    session: AsyncSession, *, actor: Actor, message_id: uuid.UUID
) -> OutboxMessage | None:
    authorize(actor.principal, Action.MANAGE_USERS)
    return await session.get(OutboxMessage, message_id)
