"""Hypothesis strategies for schedules in zones whose rules catch naive arithmetic out.

Ranges are drawn around the zones' real clock changes (found by scanning ``zoneinfo``), so
nearly every example crosses a skipped or repeated hour.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, time, timedelta
from functools import cache
from zoneinfo import ZoneInfo

from hypothesis import strategies as st

from tocsin.domain.schedules.overrides import Override
from tocsin.domain.schedules.restrictions import Window
from tocsin.domain.schedules.rotations import LengthUnit, Rotation, RotationLength
from tocsin.domain.schedules.timeline import Layer, Schedule

ZONES = (
    "America/New_York",
    "Europe/London",
    "Australia/Lord_Howe",
    "Asia/Kolkata",
    "Pacific/Chatham",
    "America/Santiago",
)
PEOPLE = tuple(uuid.UUID(int=number) for number in range(1, 6))

# Local times near where the clocks change (00:00 in Santiago, 01:00-03:00 elsewhere).
TRICKY_TIMES = [time(hour, minute) for hour in (0, 1, 2, 3) for minute in (0, 15, 30, 45)]


@cache
def transitions(zone_name: str) -> tuple[datetime, ...]:
    """Instants between 2019 and 2031 where the zone's UTC offset changes."""
    zone = ZoneInfo(zone_name)
    found: list[datetime] = []
    instant = datetime(2019, 1, 1, tzinfo=UTC)
    end = datetime(2031, 1, 1, tzinfo=UTC)
    step = timedelta(hours=6)
    while instant < end:
        following = instant + step
        if instant.astimezone(zone).utcoffset() != following.astimezone(zone).utcoffset():
            low, high = instant, following
            while high - low > timedelta(minutes=1):
                middle = low + (high - low) / 2
                if middle.astimezone(zone).utcoffset() == low.astimezone(zone).utcoffset():
                    low = middle
                else:
                    high = middle
            found.append(high)
        instant = following
    return tuple(found)


zones = st.sampled_from(ZONES).map(ZoneInfo)
minute_times = st.builds(time, st.integers(0, 23), st.integers(0, 59))
local_times = st.one_of(st.sampled_from(TRICKY_TIMES), minute_times)
lengths = st.one_of(
    st.builds(RotationLength, st.just(LengthUnit.HOURS), st.integers(1, 36)),
    st.builds(RotationLength, st.just(LengthUnit.DAYS), st.integers(1, 15)),
)


@st.composite
def around_a_clock_change(draw: st.DrawFn, zone: ZoneInfo) -> datetime:
    """An instant within a few days of one of ``zone``'s clock changes (or any, if none)."""
    changes = transitions(zone.key)
    anchor = draw(st.sampled_from(changes)) if changes else datetime(2026, 3, 1, tzinfo=UTC)
    return anchor + timedelta(minutes=draw(st.integers(-5 * 24 * 60, 5 * 24 * 60)))


@st.composite
def rotations(draw: st.DrawFn, zone: ZoneInfo, near: datetime, max_years: int = 6) -> Rotation:
    local_near = near.astimezone(zone).replace(tzinfo=None)
    start_day = local_near.date() - timedelta(days=draw(st.integers(-10, 365 * max_years)))
    start = datetime.combine(start_day, draw(local_times))
    end = None
    if draw(st.booleans()) and draw(st.booleans()):
        end = start + timedelta(hours=draw(st.integers(1, 24 * 400)))
        if end - start < timedelta(hours=2):
            end = None
    return Rotation(
        zone=zone,
        start=start,
        length=draw(lengths),
        participants=tuple(draw(st.lists(st.sampled_from(PEOPLE), min_size=0, max_size=4))),
        phase=draw(st.integers(0, 5)),
        end=end,
    )


windows = st.builds(
    Window,
    days=st.frozensets(st.integers(1, 7), min_size=1, max_size=7),
    start=local_times,
    end=local_times,
)


@st.composite
def layers(draw: st.DrawFn, zone: ZoneInfo, near: datetime) -> Layer:
    restricted = draw(st.integers(0, 3)) == 0
    return Layer(
        id=uuid.uuid4(),
        rotation=draw(rotations(zone, near)),
        windows=tuple(draw(st.lists(windows, max_size=3))) if restricted else (),
    )


@st.composite
def overrides_within(draw: st.DrawFn, since: datetime, until: datetime) -> tuple[Override, ...]:
    """Non-overlapping overrides, some replacing a named person, some back to back."""
    span_minutes = int((until - since).total_seconds() // 60)
    cuts = sorted(draw(st.sets(st.integers(-600, span_minutes + 600), max_size=8)))
    chosen: list[Override] = []
    for start_minute, end_minute in zip(cuts[::2], cuts[1::2], strict=False):
        chosen.append(
            Override(
                id=uuid.uuid4(),
                user_id=draw(st.sampled_from(PEOPLE)),
                start=since + timedelta(minutes=start_minute),
                end=since + timedelta(minutes=end_minute),
                replaces_user_id=draw(st.one_of(st.none(), st.sampled_from(PEOPLE))),
            )
        )
    return tuple(chosen)


@st.composite
def schedules_and_ranges(draw: st.DrawFn) -> tuple[Schedule, datetime, datetime]:
    zone = draw(zones)
    near = draw(around_a_clock_change(zone))
    since = near - timedelta(minutes=draw(st.integers(0, 5 * 24 * 60)))
    until = near + timedelta(minutes=draw(st.integers(1, 10 * 24 * 60)))
    schedule = Schedule(
        zone=zone,
        layers=tuple(draw(st.lists(layers(zone, near), max_size=3))),
        overrides=draw(overrides_within(since, until)),
    )
    return schedule, since, until
