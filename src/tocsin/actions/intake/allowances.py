"""Intake rate limits shared by every process: a token bucket per integration in PostgreSQL.

An integration may send ``per_minute`` events a minute, in bursts of up to ten seconds'
worth (at least ten). The bucket is one row (``intake_allowance``) that every ``tocsin
serve`` process takes from, so the limit holds for the deployment however many processes
share the load.

Taking one token per event would put a row update, and a row lock every process queues
on, in front of every alert. Instead a process takes a *grant* of several tokens at once
(a tenth of the bucket, at least one) with one statement, spends it locally, and comes
back when it is used up. Tokens granted are gone from the bucket, so processes together
never admit more than the limit; a grant a process does not use up within a second is
dropped (the bucket refills meanwhile), which can only make the limit stricter, by at most
one grant per process and second. With a small limit the grant is one token and every
event asks the database, which is exact.
"""

from __future__ import annotations

import math
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import LiteralString

from tocsin.db.executors import Executor

# Lock the bucket (FOR NO KEY UPDATE returns the latest version once the lock is ours, so
# takes by other processes are counted), refill it up to now, hand out up to a grant.
TAKE: LiteralString = """
    WITH bucket AS (
        SELECT integration_id, refilled_at,
               LEAST(
                   %(capacity)s,
                   tokens + GREATEST(0, EXTRACT(EPOCH FROM %(now)s - refilled_at)) * %(rate)s
               ) AS refilled
        FROM intake_allowance
        WHERE integration_id = %(integration_id)s
        FOR NO KEY UPDATE
    ), taken AS (
        SELECT integration_id, refilled, refilled_at,
               LEAST(%(want)s, floor(refilled))::integer AS granted
        FROM bucket
    )
    UPDATE intake_allowance
    SET tokens = taken.refilled - taken.granted,
        granted = taken.granted,
        refilled_at = GREATEST(taken.refilled_at, %(now)s)
    FROM taken
    WHERE intake_allowance.integration_id = taken.integration_id
    RETURNING intake_allowance.granted, intake_allowance.tokens
    """

# The first take of an integration: a full bucket, less this grant. A process that loses
# the race to create the row takes from the row the winner created.
CREATE: LiteralString = """
    INSERT INTO intake_allowance (integration_id, tokens, refilled_at, granted)
    VALUES (%(integration_id)s, %(capacity)s - %(want)s, %(now)s, %(want)s)
    ON CONFLICT (integration_id) DO NOTHING
    RETURNING granted, tokens
    """


@dataclass(frozen=True)
class Limit:
    per_minute: int

    @property
    def rate(self) -> float:
        """Tokens per second."""
        return self.per_minute / 60.0

    @property
    def capacity(self) -> float:
        return max(10.0, self.rate * 10)

    @property
    def grant(self) -> int:
        """How many tokens a process takes at once."""
        return max(1, int(self.capacity // 10))


@dataclass(frozen=True)
class Taken:
    granted: int
    # When granted is 0: seconds until the bucket holds a token again.
    retry_after: int = 0


async def take(executor: Executor, integration_id: uuid.UUID, limit: Limit, now: datetime) -> Taken:
    """Take a grant from the integration's bucket; each statement is atomic on its own."""
    params = {
        "integration_id": integration_id,
        "capacity": limit.capacity,
        "rate": limit.rate,
        "want": limit.grant,
        "now": now,
    }
    rows = await executor.rows(TAKE, params)
    if not rows:
        rows = await executor.rows(CREATE, params)
        if not rows:
            rows = await executor.rows(TAKE, params)
    granted, tokens = int(rows[0][0]), float(rows[0][1])
    if granted > 0:
        return Taken(granted)
    return Taken(0, retry_after=max(1, math.ceil((1 - tokens) / limit.rate)))
