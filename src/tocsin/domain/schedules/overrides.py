"""Overrides: someone covers an interval in place of whoever is on call, or of one person.

An override ``[start, end)`` with no ``replaces_user_id`` puts its user on call for the
whole interval, gaps included. One that names ``replaces_user_id`` applies only where that
person would otherwise be on call, so "Bob takes Alice's nights this week" leaves Carol's
days alone. A swap is two such overrides, each participant covering the other's shift.

Overrides on one schedule never overlap (back to back is fine: intervals are half-open);
``find_overlap`` is the rule, and the action that creates an override applies it under a
lock on the schedule.
"""

from __future__ import annotations

import bisect
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum


@dataclass(frozen=True)
class Override:
    id: uuid.UUID
    user_id: uuid.UUID
    start: datetime
    end: datetime
    replaces_user_id: uuid.UUID | None = None

    def __post_init__(self) -> None:
        if self.end <= self.start:
            raise ValueError("an override ends after it starts")

    def overlaps(self, start: datetime, end: datetime) -> bool:
        return self.start < end and start < self.end

    def applies_to(self, user_id: uuid.UUID | None) -> bool:
        """Whether this override takes over from ``user_id`` (``None``: nobody on call)."""
        return self.replaces_user_id is None or self.replaces_user_id == user_id


def find_overlap(existing: Iterable[Override], start: datetime, end: datetime) -> Override | None:
    """The earliest existing override that overlaps ``[start, end)``, if any."""
    clashes = [override for override in existing if override.overlaps(start, end)]
    return min(clashes, key=lambda override: override.start) if clashes else None


def in_order(overrides: Iterable[Override]) -> tuple[Override, ...]:
    return tuple(sorted(overrides, key=lambda override: (override.start, override.id)))


def covering(
    ordered: Sequence[Override], starts: Sequence[datetime], instant: datetime
) -> Override | None:
    """The override in force at ``instant``; ``ordered`` is sorted, ``starts`` its starts."""
    position = bisect.bisect_right(starts, instant) - 1
    if position >= 0 and instant < ordered[position].end:
        return ordered[position]
    return None


class OverrideKind(StrEnum):
    """``override``: someone covers an interval; ``swap``: one half of a traded pair."""

    OVERRIDE = "override"
    SWAP = "swap"
