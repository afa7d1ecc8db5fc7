"""The local outbox: storing mail delivered to it, and showing it to platform admins."""

from __future__ import annotations

import uuid
from datetime import datetime
from email.message import EmailMessage

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from tocsin.actions.actors import Actor
from tocsin.db.models.deliveries import OutboxMessage
from tocsin.domain.access import Action, authorize


async def store(session: AsyncSession, message: EmailMessage, *, now: datetime) -> uuid.UUID:
    text = message.get_body(preferencelist=("plain",))
    html = message.get_body(preferencelist=("html",))
    row = OutboxMessage(
        id=uuid.uuid4(),
        message_id=str(message["Message-ID"] or "")[:256],
        recipient=str(message["To"] or "")[:320],
        subject=str(message["Subject"] or "")[:1000],
        text_body=text.get_content() if text is not None else "",
        html_body=html.get_content() if html is not None else "",
        raw=message.as_string(),
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
