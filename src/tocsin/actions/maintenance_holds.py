"""Whether a service is in maintenance now, for the escalation engine (trusted; no actor)."""

from __future__ import annotations

import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from tocsin.db.models.services import MaintenanceWindow
from tocsin.domain import maintenance


async def hold_until(
    session: AsyncSession, service_id: uuid.UUID, now: datetime
) -> datetime | None:
    """When the maintenance covering ``now`` ends for ``service_id``, or ``None``."""
    rows = (
        await session.scalars(
            sa.select(MaintenanceWindow).where(
                MaintenanceWindow.service_id == service_id,
                # One-off windows that ended can never cover ``now`` again.
                sa.or_(MaintenanceWindow.recurrence.is_not(None), MaintenanceWindow.ends_at > now),
                MaintenanceWindow.starts_at <= now,
            )
        )
    ).all()
    windows = [
        maintenance.Window(row.starts_at, row.ends_at, row.recurrence, row.time_zone)
        for row in rows
    ]
    return maintenance.active_until(windows, now)
