"""Maintenance windows: when a service's escalations wait.

A window is one-off (``starts_at`` to ``ends_at``) or recurring: an RFC 5545 RRULE (daily,
weekly or monthly) whose occurrences start at the local wall-clock time of ``starts_at`` in
the window's time zone and last as long as the first one. Occurrences keep their local time
across daylight-saving changes (dateutil's rrule works in wall-clock time). During a
window alerts are recorded and incidents opened, but escalation waits; when the window
ends, escalation runs for the incidents still open.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from dateutil.rrule import rrule, rrulestr

ALLOWED_FREQUENCIES = frozenset({"DAILY", "WEEKLY", "MONTHLY"})
MAX_DURATION = timedelta(days=7)
# The rule parts accepted for each frequency: enough for real maintenance schedules, and
# every rule they allow occurs at least once a month. dateutil searches a rule that never
# occurs (BYMONTH=2;BYMONTHDAY=30) up to the year 9999, seconds of CPU on every lookup, and
# occurrences start at the wall-clock time of starts_at, so DTSTART and the sub-daily parts
# (BYHOUR, BYMINUTE, BYSECOND) are out.
_COMMON_PARTS = frozenset({"FREQ", "INTERVAL", "COUNT", "UNTIL", "WKST"})
_PARTS = {
    "DAILY": _COMMON_PARTS | {"BYDAY"},
    "WEEKLY": _COMMON_PARTS | {"BYDAY"},
    "MONTHLY": _COMMON_PARTS | {"BYDAY", "BYMONTHDAY"},
}
_WEEKDAY = re.compile(r"MO|TU|WE|TH|FR|SA|SU")
# A weekday every month has: any, the 1st to the 4th, or the last.
_MONTHLY_WEEKDAY = re.compile(r"(\+?[1-4]|-1)?(MO|TU|WE|TH|FR|SA|SU)")
MAX_MONTH_DAY = 28


@dataclass(frozen=True)
class Window:
    starts_at: datetime
    ends_at: datetime
    recurrence: str | None = None
    time_zone: str = "UTC"

    @property
    def duration(self) -> timedelta:
        return self.ends_at - self.starts_at

    def occurrence_at(self, now: datetime) -> tuple[datetime, datetime] | None:
        """The occurrence ``(start, end)`` that contains ``now``, if any."""
        if self.recurrence is None:
            return (self.starts_at, self.ends_at) if self.starts_at <= now < self.ends_at else None
        rule = self._rule()
        start = rule.before(now.astimezone(ZoneInfo(self.time_zone)), inc=True)
        if start is None:
            return None
        start_utc = start.astimezone(UTC)
        end_utc = (start + self.duration).astimezone(UTC)
        return (start_utc, end_utc) if start_utc <= now < end_utc else None

    def _rule(self) -> rrule:
        local_start = self.starts_at.astimezone(ZoneInfo(self.time_zone))
        parsed = rrulestr(self.recurrence or "", dtstart=local_start)
        assert isinstance(parsed, rrule)
        return parsed


def problem_with(window: Window) -> tuple[str, str] | None:
    """``(field, reason)`` when a window cannot be used, else ``None``."""
    if window.ends_at <= window.starts_at:
        return "ends_at", "a window must end after it starts"
    if window.recurrence is None:
        return None
    if window.duration > MAX_DURATION:
        return "ends_at", "a recurring window lasts at most 7 days"
    try:
        rule = rrulestr(window.recurrence, dtstart=window.starts_at)
    except (ValueError, TypeError) as error:
        return "recurrence", f"not a valid RRULE: {error}"
    frequency = re.search(r"FREQ=([A-Z]+)", window.recurrence.upper())
    if not isinstance(rule, rrule) or frequency is None or frequency[1] not in ALLOWED_FREQUENCIES:
        return "recurrence", "use one RRULE with FREQ=DAILY, WEEKLY or MONTHLY"
    unsupported = _unsupported_part(window.recurrence, frequency[1])
    if unsupported is not None:
        return "recurrence", unsupported
    # Safe to search now: every rule accepted above occurs at least once a month.
    if rule.after(window.starts_at, inc=True) is None:
        return "recurrence", "the rule ends (UNTIL or COUNT) before its first occurrence"
    return None


def _unsupported_part(recurrence: str, frequency: str) -> str | None:
    """Why a parsed RRULE of ``frequency`` is outside what tocsin accepts, or ``None``."""
    parts: dict[str, str] = {}
    for item in recurrence.upper().strip().removeprefix("RRULE:").split(";"):
        name, _, value = item.partition("=")
        parts[name.strip()] = value.strip()
    allowed = _PARTS[frequency]
    if not set(parts) <= allowed:
        return f"FREQ={frequency} takes only {', '.join(sorted(allowed - {'FREQ'}))}"
    days = [day for day in parts.get("BYDAY", "").split(",") if day]
    if frequency != "MONTHLY":
        if not all(_WEEKDAY.fullmatch(day) for day in days):
            return "BYDAY takes weekdays (MO, TU, …) without a number here"
        if frequency == "DAILY" and days and parts.get("INTERVAL", "1") != "1":
            # Every 7th day on Mondays only never happens if the first day is a Tuesday.
            return "a daily rule with BYDAY has no INTERVAL; use FREQ=WEEKLY;INTERVAL=…"
        return None
    if "BYDAY" in parts and "BYMONTHDAY" in parts:
        return "give BYDAY or BYMONTHDAY, not both"
    if not all(_MONTHLY_WEEKDAY.fullmatch(day) for day in days):
        return "BYDAY takes a weekday every month has: MO, 1MO to 4MO, or -1MO (the last)"
    for text in (day for day in parts.get("BYMONTHDAY", "").split(",") if day):
        if not re.fullmatch(r"[-+]?\d{1,2}", text) or not 1 <= abs(int(text)) <= MAX_MONTH_DAY:
            return f"BYMONTHDAY takes days every month has: 1 to {MAX_MONTH_DAY}, or -1 (the last)"
    return None


def active_until(windows: Iterable[Window], now: datetime) -> datetime | None:
    """When the maintenance covering ``now`` ends (following back-to-back and overlapping
    windows), or ``None`` when no window covers ``now``."""
    candidates = list(windows)
    until: datetime | None = None
    moment = now
    # Chained windows: a window that starts before the current one ends extends the hold.
    for _ in range(len(candidates) + 1):
        ends = [
            occurrence[1]
            for window in candidates
            if (occurrence := window.occurrence_at(moment)) is not None
        ]
        if not ends:
            break
        until = max(ends)
        moment = until
    return until
