"""When failed logins must be slowed down.

Failures are counted per account and per client address over a sliding window. Once either
count reaches its limit, further attempts are refused until the oldest counted failure
leaves the window; ``retry_after`` says how long that is. A successful login does not erase
earlier failures: an attacker who knows one password must not reset the counter for others
from the same address.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta


@dataclass(frozen=True)
class LoginLimits:
    per_account: int
    per_ip: int
    window: timedelta


def seconds_until_allowed(
    limits: LoginLimits,
    *,
    account_failures: Sequence[datetime],
    ip_failures: Sequence[datetime],
    now: datetime,
) -> int | None:
    """``None`` when another attempt is allowed, else whole seconds to wait."""
    waits = [
        wait
        for failures, limit in (
            (account_failures, limits.per_account),
            (ip_failures, limits.per_ip),
        )
        if (wait := _wait(failures, limit, limits.window, now)) is not None
    ]
    return max(waits) if waits else None


def _wait(failures: Sequence[datetime], limit: int, window: timedelta, now: datetime) -> int | None:
    recent = sorted(at for at in failures if at > now - window)
    if len(recent) < limit:
        return None
    # The attempt becomes allowed when enough failures have aged out to drop below the limit.
    frees_at = recent[len(recent) - limit] + window
    return max(1, math.ceil((frees_at - now).total_seconds()))
