"""Reading source timestamps: units detected, zones honoured, junk never fatal."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tocsin.ingest.timestamps import parse_instant

INSTANT = datetime(2026, 1, 5, 8, 45, 12, tzinfo=UTC)
SECONDS = 1767602712


@pytest.mark.parametrize(
    "value",
    [SECONDS, float(SECONDS), str(SECONDS), f" {SECONDS} ", SECONDS * 1000, str(SECONDS * 1000)],
)
def test_epoch_seconds_and_milliseconds_are_told_apart(value: object) -> None:
    assert parse_instant(value) == INSTANT


def test_milliseconds_keep_their_fraction() -> None:
    assert parse_instant(SECONDS * 1000 + 250) == INSTANT.replace(microsecond=250_000)


@pytest.mark.parametrize(
    "text",
    [
        "2026-01-05T08:45:12Z",
        "2026-01-05T08:45:12+00:00",
        "2026-01-05T09:45:12+0100",
        "2026-01-05T03:45:12-05:00",
        "2026-01-05 08:45:12Z",
        "2026-01-05T08:45:12",
    ],
)
def test_iso_8601_in_any_zone_becomes_utc(text: str) -> None:
    instant = parse_instant(text)
    assert instant == INSTANT
    assert instant is not None
    assert instant.tzinfo is UTC


def test_nanoseconds_from_go_are_cut_to_microseconds() -> None:
    assert parse_instant("2026-01-05T08:45:12.123456789Z") == INSTANT.replace(microsecond=123456)


@pytest.mark.parametrize(
    "value",
    [None, "", "  ", "yesterday", "0001-01-01T00:00:00Z", True, 0, -5, "nan", "inf", 1e300, [], {}],
)
def test_absent_zero_and_unreadable_values_give_no_time(value: object) -> None:
    assert parse_instant(value) is None


@given(st.datetimes(min_value=datetime(2001, 9, 10), max_value=datetime(2200, 1, 1)))
def test_any_instant_reads_back_the_same_in_seconds_and_milliseconds(moment: datetime) -> None:
    instant = moment.replace(microsecond=0, tzinfo=UTC)
    seconds = int(instant.timestamp())
    assert parse_instant(seconds) == instant
    assert parse_instant(seconds * 1000) == instant
