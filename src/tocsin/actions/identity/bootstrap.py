"""First start: make sure a newcomer is never stuck at a login page with no account."""

from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from tocsin.actions.actors import system_actor
from tocsin.actions.identity import logins, users

FIRST_START_LOCK = 7_305_851_002  # arbitrary, constant: "tocsin first admin"


async def ensure_first_admin(
    session: AsyncSession, *, email: str, ttl: timedelta, now: datetime
) -> str | None:
    """When there are no users at all, create a platform admin and return a one-time
    login token for them; otherwise return ``None``."""
    # Two processes starting together on an empty database must create one admin, not two.
    await session.execute(sa.select(sa.func.pg_advisory_xact_lock(FIRST_START_LOCK)))
    if await users.count_users(session) > 0:
        return None
    actor = system_actor("tocsin first start")
    admin = await users.create_user(
        session, actor=actor, email=email, name="Administrator", is_platform_admin=True, now=now
    )
    return await logins.issue_login_link(session, actor=actor, user_id=admin.id, ttl=ttl, now=now)
