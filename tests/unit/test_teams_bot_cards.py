"""The Teams bot's cards (pure): a page offers the actions its state allows as
``Action.Execute``, the card brought in step says who acted, and every card is one the
fake Bot Connector (Teams' rules) accepts."""

from __future__ import annotations

import dataclasses
import uuid
from datetime import UTC, datetime

from tests.fakes.bot_connector import card_problem
from tocsin.domain.deliveries import Purpose
from tocsin.domain.notices import IncidentFacts, Notice, Recipient
from tocsin.notify.channels.base import IncidentUpdate
from tocsin.notify.channels.teams.bot import cards

NOW = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
FACTS = IncidentFacts(
    id=uuid.UUID(int=7),
    number=42,
    title="Disk full",
    description="db-1 at 99%",
    service="payments-api",
    team="Payments",
    urgency="high",
    severity="critical",
    status="triggered",
    triggered_at=NOW,
    alert_count=3,
    url="https://tocsin.test/incidents/7",
)


def _notice(purpose: Purpose = Purpose.PAGE, *, level: int = 1, **extra: object) -> Notice:
    return Notice(
        delivery_id=uuid.UUID(int=1),
        purpose=purpose,
        recipient=Recipient(uuid.UUID(int=2), "Alice", "tenant:aad-alice", "UTC"),
        now=NOW,
        base_url="https://tocsin.test",
        incidents=(FACTS,),
        level=level,
        **extra,  # type: ignore[arg-type]
    )


def _wire(summary: str, card: dict[str, object]) -> dict[str, object]:
    return cards.activity(summary, card).model_dump(by_alias=True, exclude_unset=True, mode="json")


def _actions(card: dict[str, object]) -> list[tuple[str, str | None]]:
    listed = card["actions"]
    assert isinstance(listed, list)
    return [(action["type"], action.get("verb")) for action in listed]


def test_a_page_offers_acknowledge_resolve_and_escalate_in_place() -> None:
    summary, card = cards.notice_card(_notice(level=2))
    assert summary == "[ESCALATION - Level 2] [CRITICAL] #42 Disk full on payments-api"
    assert card_problem(_wire(summary, card)) is None
    assert card["version"] == "1.4"  # Universal Actions need 1.4
    assert _actions(card) == [
        ("Action.OpenUrl", None),
        ("Action.Execute", "acknowledge"),
        ("Action.Execute", "resolve"),
        ("Action.Execute", "escalate"),
    ]
    assert card["actions"][1]["data"] == {"incident": str(FACTS.id)}  # type: ignore[index]


def test_the_card_in_step_says_who_acted_and_drops_what_no_longer_applies() -> None:
    acknowledged = IncidentUpdate(
        incident=dataclasses.replace(FACTS, status="acknowledged"),
        version=NOW,
        level=1,
        acknowledged_by="Ada Lovelace",
        resolved_by=None,
    )
    card = cards.updated_card(acknowledged)
    assert "Acknowledged by Ada Lovelace" in str(card["body"])
    assert _actions(card) == [
        ("Action.OpenUrl", None),
        ("Action.Execute", "resolve"),
        ("Action.Execute", "escalate"),
    ]
    resolved = dataclasses.replace(
        acknowledged, incident=dataclasses.replace(FACTS, status="resolved"), resolved_by="Bob"
    )
    card = cards.updated_card(resolved, note="Nothing changed: this incident is already resolved.")
    assert "Resolved by Bob" in str(card["body"])
    assert "already resolved" in str(card["body"])
    assert _actions(card) == [("Action.OpenUrl", None)]
    assert card_problem(_wire("s", card)) is None


def test_other_notices_are_cards_without_buttons() -> None:
    status_summary, status = cards.notice_card(
        _notice(Purpose.STATUS, event="acknowledged", event_by="Ada")
    )
    assert status_summary == "#42 Disk full: acknowledged by Ada"
    assert status["actions"] == []
    digest_summary, digest = cards.notice_card(_notice(Purpose.DIGEST))
    assert digest_summary == "1 incident on payments-api"
    assert card_problem(_wire(digest_summary, digest)) is None
    assert card_problem(_wire(status_summary, status)) is None
