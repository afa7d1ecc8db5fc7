"""Schedule math benchmarks: the on-call query and the rendered timeline.

    python bench/schedules.py

Ten layers in America/New_York (hourly, daily, weekly and custom rotations; half of them
restricted), queried five years after the rotations started, across a DST change. Prints
the mean and the 99th percentile. Targets (issue 4): the instant query under 1 ms on
average, a 90-day timeline with overrides under 50 ms.
"""

from __future__ import annotations

import statistics
import time as stopwatch
import uuid
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from tocsin.domain.schedules import timeline
from tocsin.domain.schedules.overrides import Override
from tocsin.domain.schedules.restrictions import Window
from tocsin.domain.schedules.rotations import LengthUnit, Rotation, RotationLength
from tocsin.domain.schedules.timeline import Layer, Schedule

ZONE = ZoneInfo("America/New_York")
START = datetime(2021, 3, 1, 9, 0)  # local wall-clock
START_INSTANT = datetime(2021, 3, 1, 15, 0, tzinfo=UTC)
AT = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)  # five years on
PEOPLE = tuple(uuid.uuid4() for _ in range(12))
LENGTHS = (
    RotationLength.hourly(),
    RotationLength.daily(),
    RotationLength.weekly(),
    RotationLength(LengthUnit.HOURS, 12),
    RotationLength(LengthUnit.DAYS, 3),
)
WINDOWS = (
    (Window(frozenset(range(1, 6)), time(9), time(17)),),
    (Window(frozenset({6, 7}), time(0), time(0)),),
    (Window(frozenset(range(1, 8)), time(22), time(6)),),
)


def build(overrides: int) -> Schedule:
    layers = tuple(
        Layer(
            id=uuid.uuid4(),
            rotation=Rotation(
                zone=ZONE,
                start=START + timedelta(hours=number),
                length=LENGTHS[number % len(LENGTHS)],
                participants=PEOPLE[number % 4 : number % 4 + 5],
            ),
            windows=WINDOWS[number % 3] if number % 2 == 0 else (),
        )
        for number in range(10)
    )
    covers = tuple(
        Override(
            uuid.uuid4(),
            PEOPLE[number % len(PEOPLE)],
            AT + timedelta(days=3 * number, hours=2),
            AT + timedelta(days=3 * number, hours=14),
            replaces_user_id=None if number % 2 else PEOPLE[number % 5],
        )
        for number in range(overrides)
    )
    return Schedule(zone=ZONE, layers=layers, overrides=covers)


def measure(label: str, runs: int, call: object) -> float:
    assert callable(call)
    timings = []
    for _ in range(runs):
        started = stopwatch.perf_counter()
        call()
        timings.append((stopwatch.perf_counter() - started) * 1000)
    mean = statistics.fmean(timings)
    p99 = statistics.quantiles(timings, n=100)[98]
    print(f"{label:<58} mean {mean:8.3f} ms   p99 {p99:8.3f} ms   ({runs} runs)")
    return mean


def main() -> None:
    schedule = build(overrides=30)
    segments = timeline.render(schedule, AT, AT + timedelta(days=90))
    print(f"10 layers, 30 overrides, {len(segments)} segments in 90 days; zone {ZONE.key}")
    instants = [AT + timedelta(minutes=37 * step) for step in range(2000)]
    cursor = iter(instants * 5)
    query = measure(
        "on-call query, 5 years after start, 10 layers",
        10_000,
        lambda: timeline.on_call_at(schedule, next(cursor)),
    )
    first_day = [START_INSTANT + timedelta(minutes=37 * step) for step in range(2000)]
    early = iter(first_day * 5)
    measure(
        "on-call query, first days of the rotation, 10 layers",
        10_000,
        lambda: timeline.on_call_at(schedule, next(early)),
    )
    render = measure(
        "90-day rendered timeline, 10 layers, 30 overrides",
        50,
        lambda: timeline.render(schedule, AT, AT + timedelta(days=90)),
    )
    ok = query < 1.0 and render < 50.0
    print("targets (query < 1 ms, timeline < 50 ms):", "met" if ok else "MISSED")


if __name__ == "__main__":
    main()
