"""Properties of the schedule math, over random schedules around real clock changes."""

from __future__ import annotations

import itertools
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.unit.schedule_strategies import (
    PEOPLE,
    around_a_clock_change,
    rotations,
    schedules_and_ranges,
    zones,
)
from tocsin.domain.schedules import localtime, timeline
from tocsin.domain.schedules.rotations import Rotation, rephase
from tocsin.domain.schedules.timeline import Layer, Schedule, SegmentKind

EXAMPLES = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
TICK = timedelta(microseconds=1)


def _plain_resolve(local: datetime, zone: ZoneInfo) -> datetime:
    """zoneinfo's own reading of a wall-clock time, as an independent oracle."""
    return local.replace(tzinfo=zone).astimezone(UTC)


def _oracle_index(rotation: Rotation, instant: datetime) -> int | None:
    """The shift at ``instant`` by bisection over plainly resolved handoffs: no wall-clock
    estimate, no correction steps. Valid where no gap is longer than the rotation, which
    holds for every zone in these tests."""
    if instant < _plain_resolve(rotation.start, rotation.zone):
        return None
    low, high = 0, 1
    while _plain_resolve(rotation.handoff_local(high), rotation.zone) <= instant:
        low, high = high, high * 2
    while high - low > 1:
        middle = (low + high) // 2
        if _plain_resolve(rotation.handoff_local(middle), rotation.zone) <= instant:
            low = middle
        else:
            high = middle
    return low


@EXAMPLES
@given(data=st.data())
def test_the_arithmetic_shift_index_matches_a_bisection_oracle(data: st.DataObject) -> None:
    zone = data.draw(zones)
    near = data.draw(around_a_clock_change(zone))
    rotation = data.draw(rotations(zone, near))
    for minutes in data.draw(st.lists(st.integers(-3000, 3000), min_size=1, max_size=10)):
        instant = near + timedelta(minutes=minutes)
        expected = _oracle_index(rotation, instant)
        if rotation.ends_at is not None and instant >= rotation.ends_at:
            expected = None
        assert rotation.index_at(instant) == expected


@EXAMPLES
@given(drawn=schedules_and_ranges())
def test_segments_tile_the_range_without_overlap_or_hole(
    drawn: tuple[Schedule, datetime, datetime],
) -> None:
    schedule, since, until = drawn
    segments = timeline.render(schedule, since, until)
    assert segments[0].start == since
    assert segments[-1].end == until
    for before, after in itertools.pairwise(segments):
        assert before.end == after.start
    for segment in segments:
        assert segment.start < segment.end
        assert (segment.user_id is None) == (segment.kind is SegmentKind.GAP)


@EXAMPLES
@given(drawn=schedules_and_ranges())
def test_the_instant_query_agrees_with_the_timeline_at_every_boundary(
    drawn: tuple[Schedule, datetime, datetime],
) -> None:
    schedule, since, until = drawn
    for segment in timeline.render(schedule, since, until):
        middle = segment.start + (segment.end - segment.start) / 2
        for instant in (segment.start, middle, segment.end - TICK):
            answer = timeline.on_call_at(schedule, instant)
            assert answer.user_id == segment.user_id, (instant, segment)
            assert answer.kind is segment.kind
            assert answer.layer_id == segment.layer_id
            assert answer.override_id == segment.override_id


@EXAMPLES
@given(drawn=schedules_and_ranges())
def test_rendering_is_the_same_in_pieces_as_in_one_go(
    drawn: tuple[Schedule, datetime, datetime],
) -> None:
    schedule, since, until = drawn
    cut = since + (until - since) / 3
    whole = timeline.render(schedule, since, until)
    pieces = timeline.render(schedule, since, cut) + timeline.render(schedule, cut, until)
    # Cutting may split one segment in two; everything else must be identical.
    assert _joined(pieces) == _joined(whole)


def _joined(segments: list[timeline.Segment]) -> list[timeline.Segment]:
    joined: list[timeline.Segment] = []
    for segment in segments:
        previous = joined[-1] if joined else None
        if (
            previous is not None
            and previous.source() == segment.source()
            and (previous.user_id == segment.user_id and previous.end == segment.start)
        ):
            joined[-1] = timeline.Segment(
                previous.start,
                segment.end,
                previous.user_id,
                previous.kind,
                previous.layer_id,
                previous.override_id,
            )
        else:
            joined.append(segment)
    return joined


@EXAMPLES
@given(data=st.data())
def test_every_handoff_falls_at_the_configured_local_time(data: st.DataObject) -> None:
    zone = data.draw(zones)
    near = data.draw(around_a_clock_change(zone))
    rotation = data.draw(rotations(zone, near))
    since, until = near - timedelta(days=3), near + timedelta(days=4)
    layer = Layer(id=data.draw(st.uuids()), rotation=rotation)
    segments = timeline.render(Schedule(zone=zone, layers=(layer,)), since, until)
    edges = {rotation.starts_at, rotation.ends_at, since, until}
    for before, after in itertools.pairwise(segments):
        if after.start in edges or SegmentKind.GAP in (before.kind, after.kind):
            continue
        local = localtime.to_local(after.start, zone)
        index = (local - rotation.start) // rotation.length.step
        candidates = [rotation.handoff_local(index - back) for back in (0, 1)]
        # The boundary is the configured wall-clock time of some handoff, or, where that
        # time was skipped, that time moved forward by the gap.
        assert any(
            (localtime.exists(wanted, zone) and local == wanted)
            or (not localtime.exists(wanted, zone) and _plain_resolve(wanted, zone) == after.start)
            for wanted in candidates
        ), (after.start, local, candidates)


@EXAMPLES
@given(data=st.data())
def test_changing_participants_keeps_whoever_is_on_call_or_the_next_in_line(
    data: st.DataObject,
) -> None:
    zone = data.draw(zones)
    near = data.draw(around_a_clock_change(zone))
    before = data.draw(rotations(zone, near))
    at = near + timedelta(minutes=data.draw(st.integers(0, 3000)))
    current = before.on_call_at(at)
    if current is None:
        return
    new = tuple(data.draw(st.lists(st.sampled_from(PEOPLE), min_size=1, max_size=5)))
    shape = Rotation(zone, before.start, before.length, new, end=before.end)
    after = replace(shape, phase=rephase(before, shape, at))
    old = before.participants
    position = (before.index_at(at) or 0) + before.phase
    remaining = [old[(position + step) % len(old)] for step in range(len(old))]
    expected = next((person for person in remaining if person in new), new[0])
    assert after.on_call_at(at) == expected
    index = after.index_at(at)
    assert index is not None
    # From then on the new order is followed, one participant per shift.
    offset = new.index(expected) if new.count(expected) == 1 else None
    if offset is not None:
        for step in range(1, 4):
            assert after.participant(index + step) == new[(offset + step) % len(new)]
