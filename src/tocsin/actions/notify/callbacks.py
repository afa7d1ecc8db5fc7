"""A provider's later word on what it accepted (a status callback), recorded with what
follows from it: a late failure releases the next tier, or warns that nobody was reached,
exactly as a failure at sending does."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from tocsin.actions.notify import outcomes, tiers
from tocsin.actions.wake import wake_engine
from tocsin.domain.deliveries import ErrorCode


async def provider_said(
    session: AsyncSession,
    *,
    provider: str,
    provider_message_id: str,
    delivered: bool,
    error: str | None,
    ops: tiers.OpsPolicy,
    now: datetime,
    delivery_id: uuid.UUID | None = None,
    code: ErrorCode = ErrorCode.REJECTED,
) -> None:
    failed_pages = await outcomes.apply_status(
        session,
        provider=provider,
        provider_message_id=provider_message_id,
        delivered=delivered,
        error=error,
        now=now,
        delivery_id=delivery_id,
        code=code,
    )
    if failed_pages:
        await tiers.after_final(session, failed_pages, ops=ops, now=now, outcomes=tiers.Outcomes())
        await wake_engine(session, "deliveries", "dispatch")
