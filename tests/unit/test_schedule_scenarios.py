"""Worked examples of the schedule rules, one behaviour per test, with real clock changes."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from tocsin.domain.schedules import localtime, timeline
from tocsin.domain.schedules.overrides import Override, find_overlap
from tocsin.domain.schedules.restrictions import Window
from tocsin.domain.schedules.rotations import LengthUnit, Rotation, RotationLength, rephase
from tocsin.domain.schedules.timeline import Layer, Schedule, SegmentKind

NEW_YORK = ZoneInfo("America/New_York")
LORD_HOWE = ZoneInfo("Australia/Lord_Howe")
LONDON = ZoneInfo("Europe/London")
ALICE, BOB, CAROL, DAN = (uuid.UUID(int=n) for n in range(1, 5))
WEEKDAYS = frozenset(range(1, 6))


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)  # type: ignore[misc]


def rotation(
    start: datetime,
    length: RotationLength,
    people: tuple[uuid.UUID, ...] = (ALICE, BOB),
    zone: ZoneInfo = NEW_YORK,
    end: datetime | None = None,
) -> Rotation:
    return Rotation(zone=zone, start=start, length=length, participants=people, end=end)


def only(*layers: Layer, overrides: tuple[Override, ...] = ()) -> Schedule:
    return Schedule(
        zone=layers[0].rotation.zone if layers else UTC_ZONE, layers=layers, overrides=overrides
    )


UTC_ZONE = ZoneInfo("UTC")


def layer(rot: Rotation, *windows: Window) -> Layer:
    return Layer(id=uuid.uuid4(), rotation=rot, windows=windows)


def test_a_skipped_handoff_moves_forward_by_the_gap() -> None:
    daily = rotation(datetime(2007, 3, 10, 2, 30), RotationLength.daily())
    # 02:30 does not exist on 2007-03-11 in New York: the handoff is at 03:30 EDT.
    assert daily.handoff(1) == utc(2007, 3, 11, 7, 30)
    assert localtime.to_local(daily.handoff(1), NEW_YORK) == datetime(2007, 3, 11, 3, 30)
    # The next day it is back at 02:30, now EDT: that shift is 23 hours long.
    assert localtime.to_local(daily.handoff(2), NEW_YORK) == datetime(2007, 3, 12, 2, 30)
    assert daily.handoff(2) - daily.handoff(1) == timedelta(hours=23)


def test_an_ambiguous_handoff_takes_the_first_occurrence() -> None:
    daily = rotation(datetime(2007, 11, 3, 1, 30), RotationLength.daily())
    assert daily.handoff(1) == utc(2007, 11, 4, 5, 30)  # 01:30 EDT, not 01:30 EST
    assert daily.handoff(2) - daily.handoff(1) == timedelta(hours=25)


def test_lord_howe_half_hour_shift_keeps_the_local_handoff() -> None:
    daily = rotation(datetime(2026, 10, 1, 2, 15), RotationLength.daily(), zone=LORD_HOWE)
    handoffs = [localtime.to_local(daily.handoff(k), LORD_HOWE) for k in range(6)]
    # 2026-10-04 02:00 -> 02:30: 02:15 is skipped and moves forward half an hour.
    assert handoffs[3] == datetime(2026, 10, 4, 2, 45)
    assert [h.time() for h in handoffs if h.day != 4] == [time(2, 15)] * 5
    # Moving forward by the gap keeps that shift 24 hours; the next one is 23.5 hours.
    assert daily.handoff(3) - daily.handoff(2) == timedelta(hours=24)
    assert daily.handoff(4) - daily.handoff(3) == timedelta(hours=23, minutes=30)


def test_hourly_rotation_skips_the_hour_that_does_not_exist() -> None:
    hourly = rotation(datetime(2007, 3, 11, 0, 0), RotationLength.hourly(), (ALICE, BOB, CAROL))
    shifts = list(hourly.shifts(utc(2007, 3, 11, 5), utc(2007, 3, 11, 9)))
    # Local 00:00 Alice, 01:00 Bob, 02:00 (skipped) Carol gets no time, 03:00 Alice.
    assert [(s.user_id, s.end - s.start) for s in shifts] == [
        (ALICE, timedelta(hours=1)),
        (BOB, timedelta(hours=1)),
        (ALICE, timedelta(hours=1)),
        (BOB, timedelta(hours=1)),
    ]


def test_twelve_hour_shifts_stay_at_eight_and_twenty_across_dst() -> None:
    custom = rotation(datetime(2026, 3, 1, 8, 0), RotationLength(LengthUnit.HOURS, 12))
    local = [localtime.to_local(custom.handoff(k), NEW_YORK) for k in range(40)]
    assert {moment.time() for moment in local} == {time(8), time(20)}


def test_weekly_rotation_five_years_on_is_exact() -> None:
    weekly = rotation(datetime(2021, 1, 4, 9, 0), RotationLength.weekly(), (ALICE, BOB, CAROL))
    at = utc(2026, 1, 5, 14, 30)  # Monday 09:30 EST, 261 weeks later
    assert weekly.index_at(at) == 261
    assert weekly.on_call_at(at) == (ALICE, BOB, CAROL)[261 % 3]
    assert weekly.on_call_at(at - timedelta(hours=1)) == (ALICE, BOB, CAROL)[260 % 3]


def test_custom_day_rotation_and_the_end_of_a_rotation() -> None:
    three_days = rotation(
        datetime(2026, 3, 1, 9), RotationLength(LengthUnit.DAYS, 3), end=datetime(2026, 3, 10, 9)
    )
    assert three_days.on_call_at(utc(2026, 3, 3, 20)) == ALICE
    assert three_days.on_call_at(utc(2026, 3, 4, 20)) == BOB
    assert three_days.on_call_at(utc(2026, 3, 10, 14)) is None  # ended at 09:00 EDT = 13:00Z
    with pytest.raises(ValueError, match="ends after"):
        rotation(datetime(2026, 3, 1, 9), RotationLength.daily(), end=datetime(2026, 3, 1, 9))


def test_restricted_higher_layer_lets_the_lower_layer_show_through() -> None:
    business = layer(
        rotation(datetime(2026, 1, 5, 9), RotationLength.weekly(), (CAROL,)),
        Window(WEEKDAYS, time(9), time(17)),
    )
    base = layer(rotation(datetime(2026, 1, 5, 9), RotationLength.daily(), (ALICE, BOB)))
    schedule = Schedule(zone=NEW_YORK, layers=(business, base))
    monday = timeline.render(schedule, utc(2026, 1, 12, 5), utc(2026, 1, 13, 5))
    assert [(s.user_id, localtime.to_local(s.start, NEW_YORK).hour) for s in monday] == [
        (ALICE, 0),
        (CAROL, 9),  # base hands off to Bob at 09:00 too, hidden under Carol
        (BOB, 17),
    ]
    saturday = timeline.on_call_at(schedule, utc(2026, 1, 17, 15))
    assert saturday.layer_id == base.id


def test_a_gap_with_nobody_on_call_is_a_gap_segment() -> None:
    weekend = layer(
        rotation(datetime(2026, 1, 3, 0), RotationLength.weekly(), (DAN,), zone=LONDON),
        Window(frozenset({6, 7}), time(0), time(0)),
    )
    schedule = Schedule(zone=LONDON, layers=(weekend,))
    week = timeline.render(schedule, utc(2026, 1, 9), utc(2026, 1, 13))
    assert [(s.kind, s.start, s.end) for s in week] == [
        (SegmentKind.GAP, utc(2026, 1, 9), utc(2026, 1, 10)),
        (SegmentKind.LAYER, utc(2026, 1, 10), utc(2026, 1, 12)),
        (SegmentKind.GAP, utc(2026, 1, 12), utc(2026, 1, 13)),
    ]
    assert timeline.on_call_at(schedule, utc(2026, 1, 12, 10)) == timeline.GAP


def test_a_layer_that_starts_in_the_future_shows_nothing_before_it_starts() -> None:
    later = layer(rotation(datetime(2026, 2, 1, 9), RotationLength.daily(), (CAROL,)))
    base = layer(rotation(datetime(2026, 1, 1, 9), RotationLength.weekly(), (ALICE,)))
    schedule = Schedule(zone=NEW_YORK, layers=(later, base))
    assert timeline.on_call_at(schedule, utc(2026, 2, 1, 13)).user_id == ALICE
    assert timeline.on_call_at(schedule, utc(2026, 2, 1, 14)).user_id == CAROL


def test_an_empty_schedule_is_one_gap() -> None:
    schedule = Schedule(zone=NEW_YORK)
    assert timeline.render(schedule, utc(2026, 1, 1), utc(2026, 1, 2)) == [
        timeline.Segment(utc(2026, 1, 1), utc(2026, 1, 2), None, SegmentKind.GAP)
    ]
    assert timeline.on_call_at(schedule, utc(2026, 1, 1)) == timeline.GAP
    assert timeline.render(schedule, utc(2026, 1, 2), utc(2026, 1, 1)) == []


def test_an_override_covers_whoever_is_on_call_including_gaps_and_handoffs() -> None:
    base = layer(
        rotation(datetime(2026, 1, 5, 9), RotationLength.daily(), (ALICE, BOB)),
        Window(WEEKDAYS, time(9), time(17)),
    )
    cover = Override(uuid.uuid4(), DAN, utc(2026, 1, 5, 20), utc(2026, 1, 6, 16))
    schedule = Schedule(zone=NEW_YORK, layers=(base,), overrides=(cover,))
    segments = timeline.render(schedule, utc(2026, 1, 5, 14), utc(2026, 1, 6, 22))
    assert [(s.user_id, s.kind) for s in segments] == [
        (ALICE, SegmentKind.LAYER),
        (DAN, SegmentKind.OVERRIDE),  # one segment across the gap and the 09:00 handoff
        (BOB, SegmentKind.LAYER),
    ]


def test_an_override_for_one_named_person_leaves_the_others_alone() -> None:
    base = layer(rotation(datetime(2026, 1, 5, 9), RotationLength.daily(), (ALICE, BOB)))
    cover = Override(uuid.uuid4(), DAN, utc(2026, 1, 5), utc(2026, 1, 9), replaces_user_id=BOB)
    schedule = Schedule(zone=NEW_YORK, layers=(base,), overrides=(cover,))
    users = [s.user_id for s in timeline.render(schedule, utc(2026, 1, 5, 14), utc(2026, 1, 8, 14))]
    assert users == [ALICE, DAN, ALICE]
    assert timeline.on_call_at(schedule, utc(2026, 1, 6, 15)).override_id == cover.id


def test_overlapping_overrides_are_found_and_back_to_back_ones_are_not() -> None:
    first = Override(uuid.uuid4(), DAN, utc(2026, 1, 5), utc(2026, 1, 6))
    assert find_overlap([first], utc(2026, 1, 6), utc(2026, 1, 7)) is None
    assert find_overlap([first], utc(2026, 1, 5, 23), utc(2026, 1, 7)) == first
    with pytest.raises(ValueError, match="ends after"):
        Override(uuid.uuid4(), DAN, utc(2026, 1, 5), utc(2026, 1, 5))


def test_removing_the_person_on_call_hands_over_to_the_next_in_line() -> None:
    daily = rotation(datetime(2026, 1, 1, 9), RotationLength.daily(), (ALICE, BOB, CAROL))
    at = utc(2026, 1, 2, 20)  # Bob's shift
    assert daily.on_call_at(at) == BOB
    shorter = Rotation(NEW_YORK, daily.start, daily.length, (ALICE, CAROL))
    after = replace(shorter, phase=rephase(daily, shorter, at))
    assert after.on_call_at(at) == CAROL
    assert after.on_call_at(at + timedelta(days=1)) == ALICE
    reordered = Rotation(NEW_YORK, daily.start, daily.length, (DAN, BOB, ALICE))
    kept = replace(reordered, phase=rephase(daily, reordered, at))
    assert kept.on_call_at(at) == BOB
    assert kept.on_call_at(at + timedelta(days=1)) == ALICE


def test_handoffs_report_only_changes_of_person() -> None:
    solo = layer(rotation(datetime(2026, 1, 1, 9), RotationLength.daily(), (ALICE,)))
    pair = layer(rotation(datetime(2026, 1, 1, 9), RotationLength.daily(), (ALICE, ALICE, BOB)))
    span = (utc(2026, 1, 1, 14), utc(2026, 1, 5, 14))
    assert timeline.handoffs(timeline.render(Schedule(NEW_YORK, (solo,)), *span)) == []
    changes = timeline.handoffs(timeline.render(Schedule(NEW_YORK, (pair,)), *span))
    assert [(h.from_user_id, h.to_user_id) for h in changes] == [(ALICE, BOB), (BOB, ALICE)]
