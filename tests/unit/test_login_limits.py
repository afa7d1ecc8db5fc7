from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tocsin.domain.login_limits import LoginLimits, seconds_until_allowed

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
LIMITS = LoginLimits(per_account=3, per_ip=5, window=timedelta(minutes=15))


def ago(minutes: float) -> datetime:
    return NOW - timedelta(minutes=minutes)


def test_below_the_limit_is_allowed() -> None:
    assert (
        seconds_until_allowed(LIMITS, account_failures=[ago(1), ago(2)], ip_failures=[], now=NOW)
        is None
    )


def test_at_the_account_limit_waits_until_the_oldest_counted_failure_ages_out() -> None:
    wait = seconds_until_allowed(
        LIMITS, account_failures=[ago(1), ago(2), ago(10)], ip_failures=[], now=NOW
    )
    assert wait == 5 * 60


def test_failures_outside_the_window_do_not_count() -> None:
    old = [ago(16), ago(20), ago(30), ago(40)]
    assert seconds_until_allowed(LIMITS, account_failures=old, ip_failures=old, now=NOW) is None


def test_the_longer_of_the_two_waits_wins() -> None:
    wait = seconds_until_allowed(
        LIMITS,
        account_failures=[ago(1), ago(2), ago(14)],
        ip_failures=[ago(1), ago(1), ago(2), ago(3), ago(4)],
        now=NOW,
    )
    assert wait == 11 * 60


def test_wait_is_at_least_one_second() -> None:
    failures = [NOW - timedelta(minutes=15) + timedelta(milliseconds=10)] * 3
    assert seconds_until_allowed(LIMITS, account_failures=failures, ip_failures=[], now=NOW) == 1
