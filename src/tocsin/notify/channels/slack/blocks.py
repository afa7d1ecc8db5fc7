"""Block Kit: what a Slack message about incidents looks like (pure, golden-tested).

Every message has a plain-text ``text`` too: Slack shows it in notifications and to
screen readers, and uses it where blocks cannot be shown. Buttons carry the incident id
as their ``value``; Slack signs the request a press makes, and the pressing user is
mapped to a tocsin person before anything is done (``routes.py``). Limits respected
here: section text under 3,000 characters, button text under 75.
"""

from __future__ import annotations

from typing import Any

from tocsin.domain.deliveries import Purpose
from tocsin.domain.notices import IncidentFacts, Notice
from tocsin.notify import wording

Block = dict[str, Any]

# Button action ids, as ``routes.py`` reads them back.
ACKNOWLEDGE = "acknowledge"
RESOLVE = "resolve"
ESCALATE = "escalate"
SNOOZE = "snooze"
SNOOZE_MINUTES = (60, 240, 1440)
STATUS_WORDS = {"triggered": "Triggered", "acknowledged": "Acknowledged", "resolved": "Resolved"}
SECTION_LIMIT = 2900


def _plain(text: str) -> dict[str, Any]:
    return {"type": "plain_text", "text": text[:75], "emoji": False}


def escape(text: str) -> str:
    """Slack's mrkdwn treats &, < and > as markup: a title from a monitoring tool must not
    become a link or a mention."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def headline(facts: IncidentFacts, level: int) -> str:
    return (
        f"{wording.escalation_prefix(level)}[{wording.priority(facts.severity)}] "
        f"#{facts.number} {facts.title}"
    )


def status_line(facts: IncidentFacts, acknowledged_by: str | None, resolved_by: str | None) -> str:
    if facts.status == "resolved":
        return f"Resolved{f' by {resolved_by}' if resolved_by else ''}"
    if facts.status == "acknowledged":
        return f"Acknowledged{f' by {acknowledged_by}' if acknowledged_by else ''}"
    return STATUS_WORDS.get(facts.status, facts.status)


def incident_blocks(
    facts: IncidentFacts,
    *,
    level: int,
    status: str,
    buttons: bool,
) -> list[Block]:
    title = f"*<{facts.url}|{escape(headline(facts, level))}>*"
    fields = [
        f"*Service*\n{escape(facts.service)}",
        f"*Urgency*\n{facts.urgency.capitalize()}",
        f"*Status*\n{escape(status)}",
        f"*Alerts*\n{facts.alert_count}",
    ]
    blocks: list[Block] = [
        {"type": "section", "text": {"type": "mrkdwn", "text": title[:SECTION_LIMIT]}},
        {"type": "section", "fields": [{"type": "mrkdwn", "text": field} for field in fields]},
    ]
    if facts.description:
        blocks.append(
            {
                "type": "section",
                "text": {"type": "mrkdwn", "text": escape(facts.description)[:SECTION_LIMIT]},
            }
        )
    if buttons:
        blocks.append(_actions(facts))
    return blocks


def _actions(facts: IncidentFacts) -> Block:
    incident = str(facts.id)
    elements: list[Block] = []
    if facts.status == "triggered":
        elements.append(
            {
                "type": "button",
                "action_id": ACKNOWLEDGE,
                "text": _plain("Acknowledge"),
                "style": "primary",
                "value": incident,
            }
        )
    elements += [
        {
            "type": "button",
            "action_id": RESOLVE,
            "text": _plain("Resolve"),
            "value": incident,
        },
        {
            "type": "button",
            "action_id": ESCALATE,
            "text": _plain("Escalate"),
            "style": "danger",
            "value": incident,
            "confirm": {
                "title": _plain("Escalate now?"),
                "text": _plain("The next level is paged at once."),
                "confirm": _plain("Escalate"),
                "deny": _plain("Cancel"),
            },
        },
        {
            "type": "static_select",
            "action_id": SNOOZE,
            "placeholder": _plain("Snooze"),
            "options": [
                {"text": _plain(duration(minutes)), "value": f"{incident}:{minutes}"}
                for minutes in SNOOZE_MINUTES
            ],
        },
    ]
    return {"type": "actions", "block_id": f"incident:{incident}", "elements": elements}


def duration(minutes: int) -> str:
    return f"{minutes // 60} hour{'s' if minutes != 60 else ''}"


def notice_message(notice: Notice) -> tuple[str, list[Block]]:
    """The fallback text and the blocks of a notice (a page, digest, status or shift)."""
    if notice.purpose is Purpose.PAGE:
        facts = notice.incidents[0]
        text = f"{headline(facts, notice.level)} on {facts.service}"
        status = status_line(facts, None, None)
        return text, incident_blocks(facts, level=notice.level, status=status, buttons=True)
    if notice.purpose is Purpose.DIGEST:
        count = len(notice.incidents)
        where = wording.services_phrase([facts.service for facts in notice.incidents])
        text = f"{count} incident{'s' if count != 1 else ''} on {where}"
        lines = "\n".join(
            f"• <{facts.url}|#{facts.number} {escape(facts.title)}>"
            for facts in notice.incidents[:20]
        )
        return text, [
            {"type": "section", "text": {"type": "mrkdwn", "text": f"*{escape(text)}*"}},
            {"type": "section", "text": {"type": "mrkdwn", "text": lines[:SECTION_LIMIT]}},
        ]
    if notice.purpose is Purpose.STATUS:
        facts = notice.incidents[0]
        text = f"#{facts.number} {facts.title}: {notice.event} by {notice.event_by}"
        return text, incident_blocks(
            facts,
            level=1,
            status=f"{(notice.event or '').capitalize()} by {notice.event_by}",
            buttons=False,
        )
    if notice.purpose is Purpose.SHIFT:
        text = f"Your on-call shift on {notice.schedule} starts now"
        return text, [{"type": "section", "text": {"type": "mrkdwn", "text": escape(text)}}]
    text = "tocsin can now page you in Slack"
    return text, [{"type": "section", "text": {"type": "mrkdwn", "text": text}}]
