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

from datetime import UTC, datetime
from zoneinfo import ZoneInfo


def resolve(local: datetime, zone: ZoneInfo) -> datetime:
    """The instant of a local wall-clock time, by the rules above."""
    if local.tzinfo is not None:
        raise ValueError("a local wall-clock time is naive")
    return local.replace(tzinfo=zone, fold=0).astimezone(UTC)


def to_local(instant: datetime, zone: ZoneInfo) -> datetime:
    """The wall-clock reading at ``instant`` (naive; an hour repeated reads the same twice)."""
    if instant.tzinfo is None:
        raise ValueError("an instant is timezone-aware")
    return instant.astimezone(zone).replace(tzinfo=None, fold=0)


def exists(local: datetime, zone: ZoneInfo) -> bool:
    """False for a wall-clock time skipped by a forward change of the clocks."""
    return to_local(resolve(local, zone), zone) == local
