"""Slack's pure parts: Block Kit of a page, the slash command's words, the manifest."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from urllib.parse import urlsplit

import pytest

from tests.fakes.slack import blocks_problem
from tocsin.domain.deliveries import Purpose
from tocsin.domain.notices import IncidentFacts, Notice, Recipient
from tocsin.notify.channels.slack import blocks, commands, package
from tocsin.notify.channels.slack.manifest import BOT_SCOPES, manifest

NOW = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


def _notice(title: str, *, level: int = 1, description: str = "") -> Notice:
    facts = IncidentFacts(
        id=uuid.UUID(int=7),
        number=42,
        title=title,
        description=description,
        service="payments-api",
        team="Payments",
        urgency="high",
        severity="critical",
        status="triggered",
        triggered_at=NOW,
        alert_count=3,
        url="https://tocsin.test/incidents/7",
    )
    return Notice(
        delivery_id=uuid.UUID(int=1),
        purpose=Purpose.PAGE,
        recipient=Recipient(uuid.UUID(int=2), "Alice", "T0:U0ALICE", "UTC"),
        now=NOW,
        base_url="https://tocsin.test",
        incidents=(facts,),
        level=level,
    )


def test_a_page_names_the_incident_and_offers_every_action() -> None:
    text, body = blocks.notice_message(_notice("Disk full", level=2))
    assert text == "[ESCALATION - Level 2] [CRITICAL] #42 Disk full on payments-api"
    assert blocks_problem(body) is None
    actions = next(block for block in body if block["type"] == "actions")
    assert [element["action_id"] for element in actions["elements"]] == [
        "acknowledge",
        "resolve",
        "escalate",
        "snooze",
    ]
    assert actions["elements"][0]["value"] == str(uuid.UUID(int=7))


def test_text_from_a_monitoring_tool_cannot_mention_or_link() -> None:
    _, body = blocks.notice_message(
        _notice("<!channel> <https://evil.test|click> & co", description="x" * 10_000)
    )
    shown = body[0]["text"]["text"]
    assert "<!channel>" not in shown
    assert "&lt;!channel&gt; &lt;https://evil.test|click&gt; &amp; co" in shown
    assert blocks_problem(body) is None  # a huge description is cut under Slack's limit


@pytest.mark.parametrize(
    ("typed", "parsed"),
    [
        ("ack 123", commands.Command(commands.Verb.ACKNOWLEDGE, number=123)),
        ("  RESOLVE #7 ", commands.Command(commands.Verb.RESOLVE, number=7)),
        ("", commands.Command(commands.Verb.HELP)),
        ("oncall primary db", commands.Command(commands.Verb.ONCALL, argument="primary db")),
        ("ack", commands.Unparsed("Say which incident: `/tocsin ack 123`.")),
        ("ack 9999999999999", commands.Unparsed("Say which incident: `/tocsin ack 123`.")),
        ("dance", commands.Unparsed("I don't know `dance`. Try `/tocsin help`.")),
    ],
)
def test_the_slash_command_words(typed: str, parsed: commands.Command | commands.Unparsed) -> None:
    assert commands.parse(typed) == parsed


def test_the_manifest_points_slack_at_routes_tocsin_serves() -> None:
    made = manifest("https://oncall.example.com")
    served = {
        route.path  # type: ignore[attr-defined]
        for router in package.routers()
        for route in router.routes
    }
    urls = [
        made["features"]["slash_commands"][0]["url"],
        made["settings"]["interactivity"]["request_url"],
        made["settings"]["event_subscriptions"]["request_url"],
        *made["oauth_config"]["redirect_urls"],
    ]
    for url in urls:
        assert url.startswith("https://oncall.example.com/")
        assert urlsplit(url).path in served
    assert made["oauth_config"]["scopes"]["bot"] == list(BOT_SCOPES)
