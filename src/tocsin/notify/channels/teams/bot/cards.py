"""The bot's Adaptive Cards (pure): a personal page, and the same card brought in step.

A page's buttons are ``Action.Execute`` (Universal Actions, card schema 1.4): a press
comes back to ``/teams/messages`` as an ``adaptiveCard/action`` invoke naming the verb
and the incident, and the invoke's answer is the card as it stands after the press, so
the person sees "Acknowledged by …" in place. Later changes (someone else resolved it)
reach the sent card through Bot Connector's update (``channel.refresh``).
"""

from __future__ import annotations

from typing import Any

from microsoft_agents.activity import Activity, ActivityTypes, Attachment

from tocsin.domain.deliveries import Purpose
from tocsin.domain.notices import IncidentFacts, Notice
from tocsin.notify import wording
from tocsin.notify.channels.base import IncidentUpdate
from tocsin.notify.channels.teams.cards import SCHEMA, VERSION, incident_body, status_line

CARD = "application/vnd.microsoft.card.adaptive"
ACKNOWLEDGE = "acknowledge"
RESOLVE = "resolve"
ESCALATE = "escalate"
VERBS = (ACKNOWLEDGE, RESOLVE, ESCALATE)
TITLES = {ACKNOWLEDGE: "Acknowledge", RESOLVE: "Resolve", ESCALATE: "Escalate"}


def _card(body: list[dict[str, Any]], actions: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "$schema": SCHEMA,
        "type": "AdaptiveCard",
        "version": VERSION,
        "body": body,
        "actions": actions,
    }


def _text(text: str, **style: Any) -> dict[str, Any]:
    return {"type": "TextBlock", "text": text[:2000], "wrap": True, **style}


def incident_card(
    facts: IncidentFacts, *, level: int, status: str, note: str | None = None
) -> dict[str, Any]:
    """An incident with the buttons its state allows: Acknowledge while triggered,
    Resolve and Escalate until resolved."""
    body = incident_body(facts, level, status)
    if note:
        body.append(_text(note, color="warning"))
    actions: list[dict[str, Any]] = [
        {"type": "Action.OpenUrl", "title": "Open incident", "url": facts.url}
    ]
    allowed = (
        [ACKNOWLEDGE, RESOLVE, ESCALATE]
        if facts.status == "triggered"
        else [RESOLVE, ESCALATE]
        if facts.status == "acknowledged"
        else []
    )
    actions += [
        {
            "type": "Action.Execute",
            "title": TITLES[verb],
            "verb": verb,
            "data": {"incident": str(facts.id)},
        }
        for verb in allowed
    ]
    return _card(body, actions)


def updated_card(update: IncidentUpdate, *, note: str | None = None) -> dict[str, Any]:
    return incident_card(update.incident, level=update.level, status=status_line(update), note=note)


def note_card(text: str) -> dict[str, Any]:
    return _card([_text(text)], [])


def notice_card(notice: Notice) -> tuple[str, dict[str, Any]]:
    """The summary (Teams' notification text) and card of a notice."""
    if notice.purpose is Purpose.PAGE:
        facts = notice.incidents[0]
        summary = (
            f"{wording.escalation_prefix(notice.level)}[{wording.priority(facts.severity)}] "
            f"#{facts.number} {facts.title} on {facts.service}"
        )
        return summary, incident_card(facts, level=notice.level, status="Triggered")
    if notice.purpose is Purpose.DIGEST:
        count = len(notice.incidents)
        where = wording.services_phrase([facts.service for facts in notice.incidents])
        summary = f"{count} incident{'s' if count != 1 else ''} on {where}"
        return summary, _card(
            [_text(summary, weight="Bolder")]
            + [_text(f"[#{f.number} {f.title}]({f.url})") for f in notice.incidents[:20]],
            [],
        )
    if notice.purpose is Purpose.STATUS:
        facts = notice.incidents[0]
        summary = f"#{facts.number} {facts.title}: {notice.event} by {notice.event_by}"
        status = f"{(notice.event or '').capitalize()} by {notice.event_by}"
        return summary, _card(incident_body(facts, 1, status), [])
    if notice.purpose is Purpose.SHIFT:
        summary = f"Your on-call shift on {notice.schedule} starts now"
        return summary, note_card(summary)
    summary = "tocsin can now page you in Teams"
    return summary, note_card(summary)


def activity(summary: str, card: dict[str, Any]) -> Activity:
    """A message carrying one card; ``summary`` is what Teams shows in its notification."""
    return Activity(
        type=ActivityTypes.message,
        summary=summary[:200],
        attachments=[Attachment(content_type=CARD, content=card)],
    )
