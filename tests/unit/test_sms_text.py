"""SMS's pure parts: GSM-7 texts within their segments, and the replies' words."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest

from tocsin.domain.notices import IncidentFacts
from tocsin.notify.channels.sms import replies, text


def _facts(title: str, number: int = 1234) -> IncidentFacts:
    return IncidentFacts(
        id=uuid.UUID(int=1),
        number=number,
        title=title,
        description="",
        service="payments-api",
        team="Payments",
        urgency="high",
        severity="error",
        status="triggered",
        triggered_at=datetime(2026, 1, 5, tzinfo=UTC),
        alert_count=1,
        url="https://tocsin.test/incidents/1",
    )


def test_typography_becomes_gsm7_and_nothing_forces_ucs2() -> None:
    made = text.gsm7("“Disk” full — 95 % … naïve café 🔥 中")
    assert made == '"Disk" full - 95 % ... naive café ? ?'
    assert all(char in text.BASIC or char in text.EXTENDED for char in made)


def test_a_long_title_is_cut_so_the_page_is_one_segment() -> None:
    page = text.page(_facts("x" * 400), level=1, base_url="https://tocsin.test")
    assert text.segments(page) == 1
    assert page.startswith("tocsin #1234 [HIGH] xxx")
    assert page.endswith(
        "xxx... - reply 1234A to ack, 1234R to resolve https://tocsin.test/incidents/number/1234"
    )


def test_an_escalation_says_so_and_stays_within_three_segments() -> None:
    page = text.page(_facts("Disk full"), level=3, base_url="https://" + "a" * 200 + ".test")
    assert page.startswith("[ESCALATION - Level 3] tocsin #1234")
    assert text.segments(page) <= text.MAX_SEGMENTS


def test_extension_characters_count_twice() -> None:
    assert text.septets("{}€") == 6
    assert text.segments("a" * 160) == 1
    assert text.segments("a" * 159 + "€") == 2


@pytest.mark.parametrize(
    ("body", "parsed"),
    [
        ("1234A", replies.Reply(replies.Verb.ACKNOWLEDGE, 1234)),
        (" 12 r ", replies.Reply(replies.Verb.RESOLVE, 12)),
        ("#7a", replies.Reply(replies.Verb.ACKNOWLEDGE, 7)),
        ("ack 99", replies.Reply(replies.Verb.ACKNOWLEDGE, 99)),
        ("Resolve #5", replies.Reply(replies.Verb.RESOLVE, 5)),
        ("a", replies.Reply(replies.Verb.ACKNOWLEDGE)),
        ("R", replies.Reply(replies.Verb.RESOLVE)),
        ("stop", replies.Reply(replies.Verb.STOP)),
        ("UNSTOP", replies.Reply(replies.Verb.START)),
        ("help", replies.Reply(replies.Verb.HELP)),
        ("thanks!", None),
        ("1234567890123A", None),
    ],
)
def test_reply_words(body: str, parsed: replies.Reply | None) -> None:
    assert replies.parse(body) == parsed
