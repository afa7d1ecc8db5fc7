"""Rotations: ordered participants taking turns, handing off at a local wall-clock time.

A rotation starts at ``start``, a local wall-clock time in the schedule's zone that is also
its first handoff. Handoff ``k`` is at the wall-clock time ``start + k * length`` (naive
arithmetic, so a daily rotation hands off at 09:00 every day, a 23- or 25-hour shift across
a change of the clocks), resolved to an instant by ``localtime.resolve``. Shift ``k`` runs
from handoff ``k`` to handoff ``k + 1`` and belongs to ``participants[(k + phase) mod n]``.

Finding the shift at an instant is arithmetic: floor-divide the wall-clock distance from
``start`` by the length, then correct by at most a step or two around a change of the
clocks. It costs the same five years after the start as on the first day; nothing walks
past shifts.

A skipped handoff moves forward by the gap, so a later handoff can land *before* it when a
gap is longer than the rotation (hourly turns across a multi-hour jump). ``handoff`` takes
the earliest of those, so handoffs never decrease and shifts never overlap; a shift whose
two handoffs coincide is empty and simply does not appear.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from functools import cached_property
from typing import NamedTuple
from zoneinfo import ZoneInfo

from tocsin.domain.schedules import localtime

MAX_LENGTH_HOURS = 24 * 366
MAX_LENGTH_DAYS = 366


class LengthUnit(StrEnum):
    HOURS = "hours"
    DAYS = "days"


@dataclass(frozen=True)
class RotationLength:
    unit: LengthUnit
    count: int

    def __post_init__(self) -> None:
        limit = MAX_LENGTH_HOURS if self.unit is LengthUnit.HOURS else MAX_LENGTH_DAYS
        if not 1 <= self.count <= limit:
            raise ValueError(f"a rotation is 1 to {limit} {self.unit.value} long")

    @classmethod
    def hourly(cls) -> RotationLength:
        return cls(LengthUnit.HOURS, 1)

    @classmethod
    def daily(cls) -> RotationLength:
        return cls(LengthUnit.DAYS, 1)

    @classmethod
    def weekly(cls) -> RotationLength:
        return cls(LengthUnit.DAYS, 7)

    @cached_property
    def step(self) -> timedelta:
        """The length as wall-clock time (naive arithmetic keeps the local time of day)."""
        if self.unit is LengthUnit.HOURS:
            return timedelta(hours=self.count)
        return timedelta(days=self.count)


class Shift(NamedTuple):
    number: int
    user_id: uuid.UUID
    start: datetime
    end: datetime


@dataclass(frozen=True)
class Rotation:
    zone: ZoneInfo
    start: datetime
    length: RotationLength
    participants: tuple[uuid.UUID, ...]
    phase: int = 0
    end: datetime | None = None

    def __post_init__(self) -> None:
        if self.start.tzinfo is not None or (self.end is not None and self.end.tzinfo):
            raise ValueError("a rotation's start and end are local wall-clock times (naive)")
        if self.end is not None and localtime.resolve(self.end, self.zone) <= self.starts_at:
            raise ValueError("a rotation ends after it starts")

    @cached_property
    def starts_at(self) -> datetime:
        return self.handoff(0)

    @cached_property
    def ends_at(self) -> datetime | None:
        return None if self.end is None else localtime.resolve(self.end, self.zone)

    def handoff_local(self, index: int) -> datetime:
        """The wall-clock time of handoff ``index``, before resolving it to an instant."""
        return self.start + index * self.length.step

    def handoff(self, index: int) -> datetime:
        """The instant of handoff ``index`` (see the module docstring for skipped times)."""
        return self._resolve_handoff(self.handoff_local(index))

    def _resolve_handoff(self, local: datetime) -> datetime:
        instant = localtime.resolve(local, self.zone)
        offset = self.zone.utcoffset(local)
        if localtime.offset_at(instant, self.zone) == offset:
            return instant
        # ``local`` was skipped and moved forward by the gap; a later handoff that falls
        # before the moved time resolves earlier, and then that earlier instant wins.
        shifted = localtime.to_local(instant, self.zone)
        step = self.length.step
        following = local + step
        while following < shifted:
            instant = min(instant, localtime.resolve(following, self.zone))
            following += step
        return instant

    def participant(self, index: int) -> uuid.UUID:
        return self.participants[(index + self.phase) % len(self.participants)]

    def active_at(self, instant: datetime) -> bool:
        return instant >= self.starts_at and (self.ends_at is None or instant < self.ends_at)

    def index_at(self, instant: datetime) -> int | None:
        """The shift in force at ``instant``; ``None`` outside the rotation's start and end."""
        if not self.active_at(instant):
            return None
        local = localtime.to_local(instant, self.zone)
        index = max(0, (local - self.start) // self.length.step)
        # The wall-clock estimate is off by at most a step or two near a change of the
        # clocks (a repeated hour reads the same twice; a skipped handoff moves forward).
        while index > 0 and self.handoff(index) > instant:
            index -= 1
        while self.handoff(index + 1) <= instant:
            index += 1
        return index

    def on_call_at(self, instant: datetime) -> uuid.UUID | None:
        index = self.index_at(instant)
        if index is None or not self.participants:
            return None
        return self.participant(index)

    def shifts(self, since: datetime, until: datetime) -> Iterator[Shift]:
        """Non-empty shifts overlapping ``[since, until)``, clipped to it, in order."""
        low = max(since, self.starts_at)
        high = until if self.ends_at is None else min(until, self.ends_at)
        if low >= high or not self.participants:
            return
        index = self.index_at(low)
        assert index is not None  # low is inside the rotation's active interval
        step = self.length.step
        local = self.handoff_local(index)
        start = self._resolve_handoff(local)
        while start < high:
            local += step
            end = self._resolve_handoff(local)
            if end > start:
                yield Shift(index, self.participant(index), max(start, low), min(end, high))
            index += 1
            start = end


def rephase(before: Rotation, after: Rotation, at: datetime) -> int:
    """The phase for ``after`` that takes over from ``before`` at ``at`` smoothly.

    ``after`` is the edited rotation (new participants, perhaps a new start or length).
    Whoever ``before`` has on call at ``at`` stays on call if they are still listed (the
    same occurrence of them, when they appear more than once); if they were removed, the
    next remaining person in the old order takes over at once. From then on the rotation
    follows the new order at ``after``'s handoff times.
    """
    before_index, after_index = before.index_at(at), after.index_at(at)
    new = after.participants
    if before_index is None or after_index is None or not new or not before.participants:
        return 0
    old = before.participants
    position = (before_index + before.phase) % len(old)
    for step in range(len(old)):
        candidate = (position + step) % len(old)
        person = old[candidate]
        occurrence = old[:candidate].count(person)
        places = [number for number, other in enumerate(new) if other == person]
        if places:
            place = places[min(occurrence, len(places) - 1)]
            return (place - after_index) % len(new)
    return (-after_index) % len(new)
