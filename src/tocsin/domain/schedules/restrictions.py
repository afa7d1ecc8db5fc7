"""Restrictions: the local times of the week in which a layer may put someone on call.

A layer with no windows is never restricted. Otherwise it is active only inside the union
of its windows. A window opens on each of its ``days`` (ISO weekdays, Monday = 1) at
``start`` and closes at ``end`` the same day, or the next day when ``end`` is not after
``start`` (so 22:00-06:00 is a night and 00:00-00:00 a whole day). Weekdays 09:00-17:00 is
one window; a weekend-only layer is one window on Saturday and Sunday, 00:00-00:00.

Both edges are local wall-clock times resolved by ``localtime.resolve``: a window that
opens at a skipped 02:30 opens at 03:30, and one whose whole span was skipped that day is
empty. The rotation keeps turning underneath: restrictions hide shifts, they do not pause
the rotation.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from tocsin.domain.schedules import localtime

Interval = tuple[datetime, datetime]

# A window opens on some day and lasts at most a day; one that opened this many days before
# an instant's local date can still hold it (the extra day covers an edge that a skipped
# hour moved forward past midnight).
_LOOK_BACK_DAYS = 2


@dataclass(frozen=True)
class Window:
    days: frozenset[int]
    start: time
    end: time

    def __post_init__(self) -> None:
        if not self.days or not self.days <= frozenset(range(1, 8)):
            raise ValueError("a window names at least one ISO weekday, 1 (Monday) to 7")
        for edge in (self.start, self.end):
            if edge.tzinfo is not None or edge.second or edge.microsecond:
                raise ValueError("window edges are local times in whole minutes")

    def opening_on(self, day: date, zone: ZoneInfo) -> Interval | None:
        """The window that opens on ``day``, as instants; ``None`` if none or it is empty."""
        if day.isoweekday() not in self.days:
            return None
        closes_on = day if self.end > self.start else day + timedelta(days=1)
        opens = localtime.resolve(datetime.combine(day, self.start), zone)
        closes = localtime.resolve(datetime.combine(closes_on, self.end), zone)
        return (opens, closes) if closes > opens else None


def allows(windows: Sequence[Window], zone: ZoneInfo, instant: datetime) -> bool:
    if not windows:
        return True
    today = localtime.to_local(instant, zone).date()
    for back in range(_LOOK_BACK_DAYS + 1):
        day = today - timedelta(days=back)
        for window in windows:
            opening = window.opening_on(day, zone)
            if opening is not None and opening[0] <= instant < opening[1]:
                return True
    return False


def intervals(
    windows: Sequence[Window], zone: ZoneInfo, since: datetime, until: datetime
) -> list[Interval]:
    """The sorted, merged active intervals within ``[since, until)``."""
    if since >= until:
        return []
    if not windows:
        return [(since, until)]
    first = localtime.to_local(since, zone).date() - timedelta(days=_LOOK_BACK_DAYS)
    last = localtime.to_local(until, zone).date()
    openings: list[Interval] = []
    day = first
    while day <= last:
        for window in windows:
            opening = window.opening_on(day, zone)
            if opening is not None:
                openings.append(opening)
        day += timedelta(days=1)
    return merge(
        (max(start, since), min(end, until))
        for start, end in openings
        if end > since and start < until
    )


def merge(pieces: Iterable[Interval]) -> list[Interval]:
    """Sorted union of intervals; touching intervals become one."""
    merged: list[Interval] = []
    for start, end in sorted(pieces):
        if start >= end:
            continue
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged
