"""The alert model's invariants hold whatever a format hands it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from tocsin.domain.alerts import (
    DEDUP_KEY_MAX,
    TITLE_MAX,
    AlertAction,
    ChangeEvent,
    InboundAlert,
    Link,
    Severity,
)


def _alert(**changes: object) -> InboundAlert:
    values: dict[str, object] = {
        "action": AlertAction.TRIGGER,
        "dedup_key": "k",
        "title": "Disk full",
        "severity": Severity.ERROR,
    }
    values.update(changes)
    return InboundAlert(**values)  # type: ignore[arg-type]


def test_titles_are_one_trimmed_line() -> None:
    assert _alert(title="  Disk\n full\ton  web-1 ").title == "Disk full on web-1"


def test_long_titles_are_cut_with_an_ellipsis() -> None:
    title = _alert(title="x" * (TITLE_MAX + 50)).title
    assert len(title) == TITLE_MAX
    assert title.endswith("…")


def test_a_trigger_needs_a_title_but_a_resolve_does_not() -> None:
    with pytest.raises(ValueError, match="title"):
        _alert(title="  ")
    assert _alert(action=AlertAction.RESOLVE, title="").title == ""


@pytest.mark.parametrize("key", ["", "k" * (DEDUP_KEY_MAX + 1)])
def test_dedup_keys_are_bounded(key: str) -> None:
    with pytest.raises(ValueError, match="dedup_key"):
        _alert(dedup_key=key)


def test_occurred_at_is_kept_in_utc_and_must_be_aware() -> None:
    paris = timezone(timedelta(hours=1))
    assert _alert(occurred_at=datetime(2026, 1, 5, 10, tzinfo=paris)).occurred_at == datetime(
        2026, 1, 5, 9, tzinfo=UTC
    )
    with pytest.raises(ValueError, match="aware"):
        _alert(occurred_at=datetime(2026, 1, 5, 10))


def test_labels_and_details_cannot_be_changed_after_mapping() -> None:
    labels = {"team": "db"}
    alert = _alert(labels=labels, details={"a": 1})
    labels["team"] = "web"
    assert alert.labels == {"team": "db"}
    with pytest.raises(TypeError):
        alert.labels["team"] = "web"  # type: ignore[index]
    with pytest.raises(TypeError):
        alert.details["a"] = 2  # type: ignore[index]


def test_as_json_is_plain_json_with_sorted_labels() -> None:
    alert = _alert(
        labels={"b": "2", "a": "1"},
        links=[Link("https://example.com", "Example")],
        occurred_at=datetime(2026, 1, 5, 9, tzinfo=UTC),
    )
    data = alert.as_json()
    assert list(data["labels"]) == ["a", "b"]
    assert data["links"] == [{"href": "https://example.com", "text": "Example"}]
    assert data["occurred_at"] == "2026-01-05T09:00:00+00:00"
    assert data["action"] == "trigger"


def test_change_events_have_a_utc_timestamp() -> None:
    event = ChangeEvent(summary=" Deploy\n v2 ", timestamp=datetime(2026, 1, 5, 9, tzinfo=UTC))
    assert event.as_json()["summary"] == "Deploy v2"
