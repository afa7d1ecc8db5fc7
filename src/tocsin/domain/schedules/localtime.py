"""Turning local wall-clock times into instants, the one way tocsin does it.

* A local time that happens once is that instant.
* A local time that happens twice (the hour repeated when clocks go back) is the **first**
  occurrence: 01:30 on a New York fall-back day is 01:30 EDT.
* A local time that never happens (skipped when clocks go forward) is **shifted forward by
  the length of the gap**: 02:30 on a New York spring-forward day is 03:30 EDT, and 02:15
  on a Lord Howe spring-forward day (a 30-minute gap) is 02:45.

These are RFC 5545's rules (§3.3.5) and exactly what ``zoneinfo`` gives with ``fold=0``
(PEP 495: the offset from before the transition), so ``resolve`` is a thin, named wrapper:
the point is that every caller goes through it, never through ``astimezone`` guesses of
its own, and never through PostgreSQL casts (which pick the *second* of two ambiguous
times).

Local times are naive ``datetime`` values; instants are aware and in UTC. Arithmetic on
naive datetimes is wall-clock arithmetic ("the next day at 09:00"), which is what rotations
need.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

# Epoch arithmetic instead of ``replace(tzinfo=...)``: the same result, several times
# faster, and rendering a 90-day timeline resolves thousands of handoffs.
_UTC_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_LOCAL_EPOCH = datetime(1970, 1, 1)


def resolve(local: datetime, zone: ZoneInfo) -> datetime:
    """The instant of a local wall-clock time, by the rules above."""
    if local.tzinfo is not None:
        raise ValueError("a local wall-clock time is naive")
    if local.fold:
        local = local.replace(fold=0)
    # ZoneInfo reads a naive time as local; with fold=0 it gives the offset in force
    # before any transition at that time, which is exactly the rule above.
    offset = zone.utcoffset(local)
    assert offset is not None  # a ZoneInfo always has one
    return _UTC_EPOCH + (local - offset - _LOCAL_EPOCH)


def to_local(instant: datetime, zone: ZoneInfo) -> datetime:
    """The wall-clock reading at ``instant`` (naive; an hour repeated reads the same twice)."""
    if instant.tzinfo is None:
        raise ValueError("an instant is timezone-aware")
    offset = offset_at(instant, zone)
    return _LOCAL_EPOCH + (instant - _UTC_EPOCH) + offset


def offset_at(instant: datetime, zone: ZoneInfo) -> timedelta:
    offset = instant.astimezone(zone).utcoffset()
    assert offset is not None  # a ZoneInfo always has one
    return offset


def exists(local: datetime, zone: ZoneInfo) -> bool:
    """False for a wall-clock time skipped by a forward change of the clocks."""
    return to_local(resolve(local, zone), zone) == local
