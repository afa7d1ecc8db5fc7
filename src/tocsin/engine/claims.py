"""Claiming due rows: the one way engine modules pick up work.

``FOR UPDATE SKIP LOCKED`` lets any number of engines share the work: each claims a batch
of due rows that no other transaction holds, without waiting. The claim holds the row
locks until the module's transaction ends, which is the lease: if the process dies, the
transaction aborts, the locks go, and the rows are due again for the next engine. Nothing
is marked "in progress", so there is nothing to recover.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

T = TypeVar("T")


async def claim_due(
    session: AsyncSession,
    model: type[T],
    due: InstrumentedAttribute[Any],
    *,
    now: datetime,
    limit: int,
    where: Sequence[sa.ColumnElement[bool]] = (),
) -> list[T]:
    """Up to ``limit`` rows of ``model`` whose ``due`` time has come, oldest first, locked."""
    query = (
        sa.select(model)
        .where(due <= now, *where)
        .order_by(due)
        .limit(limit)
        # FOR NO KEY UPDATE: claims change no keys, and a plain FOR UPDATE would block the
        # foreign key checks (FOR KEY SHARE) of rows others insert for the claimed row
        # (an alert for a heartbeat's integration, a delivery for an incident).
        .with_for_update(skip_locked=True, key_share=True)
        .execution_options(populate_existing=True)
    )
    return list((await session.scalars(query)).all())


async def earliest(
    session: AsyncSession, due: InstrumentedAttribute[Any], *where: sa.ColumnElement[bool]
) -> datetime | None:
    """The next due time, so the loop can sleep exactly until then."""
    value: datetime | None = await session.scalar(sa.select(sa.func.min(due)).where(*where))
    return value
