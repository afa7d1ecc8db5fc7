"""Per-integration rate limits for intake, held for the whole deployment.

The bucket is in PostgreSQL (``actions.intake.allowances``); this process keeps the grant
it last took for each integration and spends it without asking the database again, so
most events cost nothing here. A grant is spent within ``GRANT_LIFETIME`` or dropped.
"""

from __future__ import annotations

import asyncio
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from tocsin.actions.intake import allowances
from tocsin.db.executors import OnConnection
from tocsin.db.session import Database
from tocsin.errors import RateLimited

# Long enough that a busy integration asks the database once per grant, short enough that
# tokens a process took and did not need are soon back in the shared bucket's refill.
GRANT_LIFETIME = timedelta(seconds=1)


@dataclass
class _Grant:
    tokens: int
    until: datetime


@dataclass
class IntakeLimiter:
    per_minute: int
    database: Database
    grants: dict[uuid.UUID, _Grant] = field(default_factory=dict)
    # One take per integration at a time in this process: a burst that finds the grant
    # spent waits for the one take under way and shares it, instead of every request
    # holding a second connection to queue on the bucket's row.
    _taking: defaultdict[uuid.UUID, asyncio.Lock] = field(
        default_factory=lambda: defaultdict(asyncio.Lock)
    )

    async def check(self, integration_id: uuid.UUID, now: datetime) -> None:
        """Admit one event of the integration, or raise ``RateLimited``."""
        if self.per_minute <= 0:
            return
        if self._spend(integration_id, now):
            return
        async with self._taking[integration_id]:
            if self._spend(integration_id, now):
                return  # the take this request waited for brought enough
            await self._take(integration_id, now)

    def _spend(self, integration_id: uuid.UUID, now: datetime) -> bool:
        grant = self.grants.get(integration_id)
        if grant is not None and grant.tokens > 0 and now < grant.until:
            grant.tokens -= 1
            return True
        return False

    async def _take(self, integration_id: uuid.UUID, now: datetime) -> None:
        # Each statement commits by itself, on a pool of its own: the bucket's row lock is
        # held for one statement, not for the intake transaction (a whole group-commit
        # batch), and the caller, who already holds a raw connection, never waits for a
        # second one from the pool it holds (with every raw connection held by a caller
        # waiting so, none would come back).
        async with self.database.single_statement() as connection:
            taken = await allowances.take(
                OnConnection(connection), integration_id, allowances.Limit(self.per_minute), now
            )
        if taken.granted == 0:
            self.grants.pop(integration_id, None)
            raise RateLimited(
                "this integration is sending faster than its limit; retry later",
                retry_after=taken.retry_after,
            )
        self.grants[integration_id] = _Grant(taken.granted - 1, now + GRANT_LIFETIME)
