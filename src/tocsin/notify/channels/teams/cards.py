"""The Adaptive Card of an incident (pure): what a Teams channel shows.

A Workflows webhook ("When a Teams webhook request is received") posts the card as the
flow's bot, and cannot call tocsin back when a button is pressed: the buttons are
``Action.OpenUrl`` to tocsin's own pages, where the person who opens them confirms,
signed in, and acts as themselves (``routes.py``).
"""

from __future__ import annotations

from typing import Any

from tocsin.domain.notices import IncidentFacts
from tocsin.notify import wording
from tocsin.notify.channels.base import IncidentUpdate

SCHEMA = "http://adaptivecards.io/schemas/adaptive-card.json"
VERSION = "1.4"
STATUS_COLOUR = {"triggered": "attention", "acknowledged": "warning", "resolved": "good"}


def status_line(update: IncidentUpdate) -> str:
    facts = update.incident
    if facts.status == "resolved":
        return f"Resolved{f' by {update.resolved_by}' if update.resolved_by else ''}"
    if facts.status == "acknowledged":
        return f"Acknowledged{f' by {update.acknowledged_by}' if update.acknowledged_by else ''}"
    return "Triggered"


def incident_body(facts: IncidentFacts, level: int, status: str) -> list[dict[str, Any]]:
    """The card's text: the headline, the status, the facts and the description (shared
    by the Workflows posts and the bot's personal pages)."""
    title = (
        f"{wording.escalation_prefix(level)}[{wording.priority(facts.severity)}] "
        f"#{facts.number} {facts.title}"
    )
    body: list[dict[str, Any]] = [
        {
            "type": "TextBlock",
            "text": title[:500],
            "weight": "Bolder",
            "size": "Medium",
            "wrap": True,
        },
        {
            "type": "TextBlock",
            "text": status,
            "color": STATUS_COLOUR.get(facts.status, "default"),
            "weight": "Bolder",
            "wrap": True,
        },
        {
            "type": "FactSet",
            "facts": [
                {"title": "Service", "value": facts.service},
                {"title": "Urgency", "value": facts.urgency.capitalize()},
                {"title": "Alerts", "value": str(facts.alert_count)},
            ],
        },
    ]
    if facts.description:
        body.append({"type": "TextBlock", "text": facts.description[:2000], "wrap": True})
    return body


def message(update: IncidentUpdate, base_url: str) -> dict[str, Any]:
    """The webhook's body: one message carrying the card."""
    return {
        "type": "message",
        "attachments": [
            {
                "contentType": "application/vnd.microsoft.card.adaptive",
                "contentUrl": None,
                "content": card(update, base_url),
            }
        ],
    }


def card(update: IncidentUpdate, base_url: str) -> dict[str, Any]:
    facts = update.incident
    body = incident_body(update.incident, update.level, status_line(update))
    body += [
        {"type": "TextBlock", "text": line.text, "isSubtle": True, "wrap": True}
        for line in update.timeline
    ]
    actions: list[dict[str, Any]] = [
        {"type": "Action.OpenUrl", "title": "Open incident", "url": facts.url},
    ]
    confirm = f"{base_url}/teams/incidents/{facts.id}"
    if facts.status == "triggered":
        actions.append(
            {"type": "Action.OpenUrl", "title": "Acknowledge", "url": f"{confirm}/acknowledge"}
        )
    if facts.status != "resolved":
        actions.append({"type": "Action.OpenUrl", "title": "Resolve", "url": f"{confirm}/resolve"})
    return {
        "$schema": SCHEMA,
        "type": "AdaptiveCard",
        "version": VERSION,
        "body": body,
        "actions": actions,
    }
