"""Reading the instant a source says an alert happened.

Sources disagree on units: Datadog's ``$DATE`` is epoch milliseconds, New Relic's
``createdAt`` too, PagerDuty and Alertmanager send ISO-8601 / RFC 3339 text, generic
senders send any of these, often as a quoted number. The rule, in order:

* a number, or a string that is one: above 10¹² it is milliseconds, otherwise seconds
  (10¹² ms is 2001-09-09, 10¹² s is in the year 33658: no real value is ambiguous);
* any other string is ISO-8601 (``Z``, ``+00:00``, ``+0000`` and nanoseconds accepted);
  a time without a zone is taken as UTC;
* Go's zero time (``0001-01-01T00:00:00Z``, Alertmanager's "not set") is no time.

An unreadable value gives ``None``, never an error: an alert is never refused because of
its timestamp (the original rejected old generic alerts outright, defect G19), and the
raw body keeps whatever was sent.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime

MILLISECONDS_ABOVE = 1e12


def from_epoch(value: float) -> datetime | None:
    """An epoch number in seconds or milliseconds (auto-detected), or ``None`` if absurd."""
    if not math.isfinite(value) or value <= 0:
        return None
    seconds = value / 1000 if value > MILLISECONDS_ABOVE else value
    try:
        return datetime.fromtimestamp(seconds, tz=UTC)
    except (OverflowError, OSError, ValueError):
        return None


def parse_instant(value: object) -> datetime | None:
    """The aware UTC instant ``value`` denotes, or ``None`` when absent or unreadable."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | float):
        return from_epoch(float(value))
    if not isinstance(value, str) or not value.strip():
        return None
    text = value.strip()
    try:
        return from_epoch(float(text))
    except ValueError:
        pass
    try:
        instant = datetime.fromisoformat(text)
    except ValueError:
        return None
    if instant.tzinfo is None:
        instant = instant.replace(tzinfo=UTC)
    if instant.year == 1:
        return None
    return instant.astimezone(UTC)
