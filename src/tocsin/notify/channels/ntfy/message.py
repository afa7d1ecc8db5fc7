"""What an ntfy notification says (pure): the JSON body of ntfy's publish API.

* ``priority`` 5 (max: the phone sounds even in do-not-disturb where allowed) for a
  high-urgency page, 3 (default) for the rest, 2 for a status change or shift start.
* ``tags`` give the notification its emoji (``rotating_light`` for a high-urgency page).
* ``click`` opens the incident; ``actions`` are ntfy ``http`` actions that POST the
  page's one-time links (Acknowledge, Resolve) from the phone, asking for JSON, and clear
  the notification.
* ``sequence_id`` (ntfy 2.11 and later) is the incident's, so later ones about the same
  incident replace it; older servers ignore it.
"""

from __future__ import annotations

from typing import Any

from tocsin.domain.deliveries import Purpose
from tocsin.domain.notices import Notice
from tocsin.notify import wording

TITLE = 200
MESSAGE = 1000


def _cut(text: str, limit: int) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1].rstrip() + "…"


def _actions(acknowledge: str | None, resolve: str | None) -> list[dict[str, Any]]:
    return [
        {
            "action": "http",
            "label": label,
            "url": url,
            "method": "POST",
            "headers": {"Accept": "application/json"},
            "clear": True,
        }
        for label, url in (("Acknowledge", acknowledge), ("Resolve", resolve))
        if url
    ]


def publish(notice: Notice, topic: str) -> dict[str, Any]:
    """The publish body for ``notice`` to ``topic``."""
    body: dict[str, Any] = {"topic": topic}
    if notice.purpose is Purpose.PAGE:
        facts = notice.incidents[0]
        high = facts.urgency == "high"
        priority = wording.priority(facts.severity)
        head = f"{wording.escalation_prefix(notice.level)}#{facts.number} [{priority}]"
        return body | {
            "title": _cut(f"{head} {facts.title}", TITLE),
            "message": _cut(f"{facts.service} · {facts.status}\n{facts.description}", MESSAGE),
            "priority": 5 if high else 3,
            "tags": ["rotating_light" if high else "warning"],
            "click": facts.url,
            "actions": _actions(facts.acknowledge_url, facts.resolve_url),
            "sequence_id": f"incident-{facts.number}",
        }
    if notice.purpose is Purpose.DIGEST:
        worst = wording.priority(wording.highest([i.severity for i in notice.incidents]))
        where = wording.services_phrase([i.service for i in notice.incidents])
        high = any(i.urgency == "high" for i in notice.incidents)
        lines = "\n".join(f"#{i.number} {i.title}" for i in notice.incidents[:20])
        return body | {
            "title": _cut(
                f"[{worst}] {wording.incidents_phrase(len(notice.incidents))} on {where}", TITLE
            ),
            "message": _cut(lines, MESSAGE),
            "priority": 5 if high else 3,
            "tags": ["rotating_light" if high else "warning"],
            "click": f"{notice.base_url}/incidents",
            "actions": _actions(notice.acknowledge_all_url, notice.resolve_all_url),
        }
    if notice.purpose is Purpose.STATUS:
        facts = notice.incidents[0]
        return body | {
            "title": _cut(f"#{facts.number} {notice.event} by {notice.event_by}", TITLE),
            "message": _cut(facts.title, MESSAGE),
            "priority": 2,
            "tags": ["white_check_mark"],
            "click": facts.url,
            "sequence_id": f"incident-{facts.number}",
        }
    if notice.purpose is Purpose.SHIFT:
        return body | {
            "title": "On call",
            "message": _cut(f"Your on-call shift on {notice.schedule} starts now.", MESSAGE),
            "priority": 3,
            "tags": ["pager"],
            "click": f"{notice.base_url}/",
        }
    return body | {
        "title": "tocsin",
        "message": f"Your tocsin code is {notice.verification_code}. It expires in 15 minutes.",
        "priority": 3,
        "tags": ["key"],
    }
