"""Severity words and each format's own table, as documented in the module docstrings."""

from __future__ import annotations

import pytest

from tocsin.domain.alerts import Severity
from tocsin.ingest import severities
from tocsin.ingest.formats import datadog, newrelic, opsgenie


@pytest.mark.parametrize(
    ("word", "expected"),
    [
        ("critical", Severity.CRITICAL),
        (" CRIT ", Severity.CRITICAL),
        ("P1", Severity.CRITICAL),
        ("sev0", Severity.CRITICAL),
        ("page", Severity.CRITICAL),
        ("error", Severity.ERROR),
        ("High", Severity.ERROR),
        ("major", Severity.ERROR),
        ("warning", Severity.WARNING),
        ("warn", Severity.WARNING),
        ("P3", Severity.WARNING),
        ("minor", Severity.WARNING),
        ("info", Severity.INFO),
        ("low", Severity.INFO),
        ("debug", Severity.INFO),
        ("P5", Severity.INFO),
    ],
)
def test_common_words_map_to_the_four_levels(word: str, expected: Severity) -> None:
    assert severities.from_word(word) is expected


@pytest.mark.parametrize("word", [None, "", "bogus", 3, "sev9"])
def test_an_unreadable_severity_pages_as_error(word: object) -> None:
    assert severities.from_word(word) is Severity.ERROR


def test_the_default_can_be_chosen() -> None:
    assert severities.from_word("bogus", default=Severity.INFO) is Severity.INFO


def test_no_word_maps_to_two_levels() -> None:
    listed = [word for words in severities.WORDS.values() for word in words.split()]
    assert len(severities.ALIASES) == len(listed)


def test_priority_tables_run_from_critical_to_info() -> None:
    expected = [Severity.CRITICAL, Severity.ERROR, Severity.WARNING, Severity.INFO, Severity.INFO]
    assert [opsgenie.PRIORITIES[f"P{n}"] for n in range(1, 6)] == expected
    assert [datadog.PRIORITIES[f"P{n}"] for n in range(1, 6)] == expected
    assert list(newrelic.PRIORITIES.values()) == expected[:4]
