"""Waking the engines: a NOTIFY, sent when the transaction that created due work commits.

Every engine LISTENs on ``WAKE_CHANNEL`` (``engine/loop.py``); the payload names the engine
modules with new work, so a busy system does not run every module's claim for every alert.
Any action that makes work due calls ``wake_engine`` in its own transaction.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

WAKE_CHANNEL = "tocsin_engine"


async def wake_engine(session: AsyncSession, *modules: str) -> None:
    """Ask running engines to look for due work as soon as this transaction commits
    (PostgreSQL delivers NOTIFY at commit, and drops it on rollback). ``modules`` names
    the engine modules with new work (the payload); none wakes every module."""
    await session.execute(sa.select(sa.func.pg_notify(WAKE_CHANNEL, ",".join(modules))))
