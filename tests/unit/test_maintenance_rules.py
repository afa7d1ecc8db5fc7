"""Which recurring maintenance windows are accepted: only rules that always occur, so that
evaluating one is cheap (dateutil searches a rule that never occurs up to the year 9999)."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest

from tocsin.domain.maintenance import Window, problem_with

START = datetime(2026, 1, 6, 9, tzinfo=UTC)  # a Tuesday


def _problem(recurrence: str, hours: int = 2) -> tuple[str, str] | None:
    return problem_with(Window(START, START + timedelta(hours=hours), recurrence, "Europe/Paris"))


@pytest.mark.parametrize(
    "rule",
    [
        "FREQ=DAILY",
        "RRULE:FREQ=DAILY;COUNT=5",
        "FREQ=DAILY;BYDAY=MO,TU,WE,TH,FR",
        "FREQ=WEEKLY;INTERVAL=2;BYDAY=SU",
        "FREQ=MONTHLY;BYMONTHDAY=-1,15",
        "FREQ=MONTHLY;INTERVAL=3;BYDAY=-1FR",
        "FREQ=MONTHLY;BYDAY=2TU;UNTIL=20270101T000000Z",
    ],
)
def test_rules_that_always_occur_are_accepted(rule: str) -> None:
    assert _problem(rule) is None


@pytest.mark.parametrize(
    ("rule", "reason"),
    [
        ("FREQ=HOURLY", "FREQ=DAILY, WEEKLY or MONTHLY"),
        ("FREQ=DAILY;BYHOUR=3", "takes only"),
        ("FREQ=DAILY;BYMONTH=2;BYMONTHDAY=30", "takes only"),
        ("FREQ=DAILY;INTERVAL=7;BYDAY=MO", "has no INTERVAL"),
        ("FREQ=WEEKLY;BYDAY=1MO", "without a number"),
        ("FREQ=MONTHLY;BYMONTHDAY=30", "1 to 28"),
        ("FREQ=MONTHLY;BYDAY=5FR", "every month has"),
        ("FREQ=MONTHLY;BYDAY=MO;BYMONTHDAY=13", "not both"),
        ("FREQ=DAILY;UNTIL=20250101T000000Z", "before its first occurrence"),
        ("DTSTART:20260101T000000Z\nRRULE:FREQ=DAILY", ""),
        ("FREQ=DAILY;UNTIL=20270101", "not a valid RRULE"),
    ],
)
def test_other_rules_are_refused_with_a_reason(rule: str, reason: str) -> None:
    problem = _problem(rule)
    assert problem is not None
    assert problem[0] == "recurrence"
    assert reason in problem[1]


def test_a_rule_that_never_occurs_is_refused_at_once() -> None:
    began = time.perf_counter()
    assert _problem("FREQ=MONTHLY;BYMONTHDAY=31;INTERVAL=12") is not None
    assert time.perf_counter() - began < 0.5


def test_a_recurring_window_lasts_at_most_a_week() -> None:
    assert _problem("FREQ=WEEKLY", hours=24 * 7 + 1) == (
        "ends_at",
        "a recurring window lasts at most 7 days",
    )
