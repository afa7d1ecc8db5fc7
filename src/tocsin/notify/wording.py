"""Words every channel uses the same way: priority labels, colours, the escalation prefix,
and times in the recipient's zone."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from tocsin.errors import StaleTransition

# Severity → the PagerDuty-style priority label and colour of the original (§4.4).
PRIORITY = {
    "critical": ("CRITICAL", "#ff0000"),
    "error": ("HIGH", "#ff6600"),
    "warning": ("MEDIUM", "#ffcc00"),
    "info": ("INFO", "#0066cc"),
}
_SEVERITY_ORDER = ("critical", "error", "warning", "info")


def priority(severity: str) -> str:
    return PRIORITY.get(severity, (severity.upper(), "#0066cc"))[0]


def colour(severity: str) -> str:
    return PRIORITY.get(severity, ("", "#0066cc"))[1]


def highest(severities: Sequence[str]) -> str:
    known = [s for s in _SEVERITY_ORDER if s in severities]
    return known[0] if known else (severities[0] if severities else "info")


def escalation_prefix(level: int) -> str:
    """A first page is not an escalation: the prefix is only for level 2 and later."""
    return f"[ESCALATION - Level {level}] " if level >= 2 else ""


def local_time(instant: datetime, zone: str) -> str:
    """``Mon 5 Jan 2026 10:00 CET`` in the recipient's zone (UTC if it is unknown)."""
    try:
        tz = ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError):
        tz = ZoneInfo("UTC")
    local = instant.astimezone(tz)
    return f"{local:%a} {local.day} {local:%b %Y %H:%M} {local.tzname()}"


def incidents_phrase(count: int) -> str:
    """``1 incident``, ``3 incidents``: a digest can hold one incident once the others
    were acknowledged before it went out."""
    return f"{count} incident{'' if count == 1 else 's'}"


def services_phrase(services: Sequence[str]) -> str:
    unique = sorted(set(services))
    return unique[0] if len(unique) == 1 else f"{len(unique)} services"


# A timeline event as one line of a chat thread: what happened, by whom, and through which
# channel when a person acted ("Acknowledged by Ada Lovelace via Slack").
_EVENT_WORDS = {
    "incident.acknowledged": "Acknowledged",
    "incident.resolved": "Resolved",
    "incident.escalated": "Escalated",
    "incident.reassigned": "Reassigned",
    "incident.snoozed": "Snoozed",
    "incident.reopened": "Reopened",
    "incident.note_added": "Note",
}
_CHANNEL_NAMES = {"slack": "Slack", "teams": "Teams", "sms": "SMS", "voice": "a call"}


def timeline_line(action: str, actor: str, details: dict[str, object]) -> str:
    verb = _EVENT_WORDS.get(action, action.removeprefix("incident.").replace("_", " "))
    if action == "incident.note_added":
        return f"{actor}: {details.get('note', '')}"[:500]
    via = details.get("via")
    through = f" via {_CHANNEL_NAMES.get(str(via), str(via))}" if via else ""
    level = details.get("level")
    if action == "incident.escalated" and level:
        return f"Escalated to level {level}"
    return f"{verb} by {actor}{through}"


def already(lost: StaleTransition) -> str:
    """What a lost race came to, for a reply in a chat or a text: "already acknowledged by
    Ada" (``StaleTransition`` names the state and who put it there)."""
    who = lost.extensions.get("by")
    state = lost.extensions.get("incident_status", "changed")
    return f"already {state}{f' by {who}' if who else ''}"
