"""Per-integration rate limits for intake: a token bucket per integration, per process."""

from __future__ import annotations

import math
import uuid
from dataclasses import dataclass, field
from datetime import datetime

from tocsin.errors import RateLimited


@dataclass
class _Bucket:
    tokens: float
    at: datetime


@dataclass
class IntakeLimiter:
    """A token bucket per integration, per process: ``per_minute`` sustained, bursts of
    ten seconds' worth. Counting per process keeps the hot path free of shared writes;
    with several processes the limit scales with them, which is documented."""

    per_minute: int
    buckets: dict[uuid.UUID, _Bucket] = field(default_factory=dict)

    def check(self, integration_id: uuid.UUID, now: datetime) -> None:
        if self.per_minute <= 0:
            return
        rate = self.per_minute / 60.0
        capacity = max(10.0, rate * 10)
        bucket = self.buckets.get(integration_id) or _Bucket(capacity, now)
        elapsed = max(0.0, (now - bucket.at).total_seconds())
        bucket.tokens = min(capacity, bucket.tokens + elapsed * rate)
        bucket.at = now
        self.buckets[integration_id] = bucket
        if bucket.tokens < 1:
            raise RateLimited(
                "this integration is sending faster than its limit; retry later",
                retry_after=max(1, math.ceil((1 - bucket.tokens) / rate)),
            )
        bucket.tokens -= 1
