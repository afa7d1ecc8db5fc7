"""An incident's audit trail as sentences a responder reads at a glance.

The timeline is the audit trail itself (``incident_queries.timeline_of``), written by the
intake, the engine, the notifier and people. Each known action gets a sentence; an action
this module does not know yet (a new event added elsewhere) still shows, as its name and
its plain details, so nothing on the trail is ever hidden from the page.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from tocsin.db.models.audit import AuditEvent
from tocsin.domain.access import PrincipalKind
from tocsin.web.formatting import duration, local_time

# How the people an event names are shown: user id -> name.
Names = Mapping[uuid.UUID, str]


@dataclass(frozen=True)
class Entry:
    at: datetime
    who: str
    text: str
    # A category for styling: state, page, notify, alert, note, other.
    kind: str
    # Free text a person wrote (a note, a resolution note), shown as a quotation.
    note: str | None = None


def people_in(events: Iterable[AuditEvent]) -> set[uuid.UUID]:
    """Every user id the events mention, so the page can look their names up at once."""
    found: set[uuid.UUID] = set()
    for event in events:
        if event.actor_kind is PrincipalKind.USER and event.actor_id is not None:
            found.add(event.actor_id)
        details = event.details or {}
        candidates = [details.get("user_id")]
        candidates += [paged.get("user_id") for paged in _dicts(details.get("paged"))]
        for value in candidates:
            parsed = _uuid(value)
            if parsed is not None:
                found.add(parsed)
    return found


def entries(events: Sequence[AuditEvent], names: Names, zone: str) -> list[Entry]:
    return [_entry(event, names, zone) for event in events]


def _entry(event: AuditEvent, names: Names, zone: str) -> Entry:
    details: dict[str, Any] = dict(event.details or {})
    who = _actor(event, names)
    known = _SENTENCES.get(event.action)
    if known is None:
        return Entry(event.occurred_at, who, f"{event.action}{_plain(details)}", "other")
    kind, sentence = known
    note = details.get("note")
    return Entry(
        event.occurred_at,
        who,
        sentence(details, names, zone),
        kind,
        note if isinstance(note, str) else None,
    )


def _actor(event: AuditEvent, names: Names) -> str:
    if event.actor_kind is PrincipalKind.USER and event.actor_id is not None:
        return names.get(event.actor_id, event.actor_label)
    return event.actor_label


def _person(value: object, names: Names, fallback: object = None) -> str:
    parsed = _uuid(value)
    if parsed is not None and parsed in names:
        return names[parsed]
    return str(fallback or value or "someone")


def _via(details: dict[str, Any]) -> str:
    via = details.get("via")
    return f" (via {via})" if via else ""


def _triggered(details: dict[str, Any], names: Names, zone: str) -> str:
    service = details.get("service")
    urgency = details.get("urgency")
    text = "opened the incident"
    if service:
        text += f" on {service}"
    if urgency:
        text += f", {urgency} urgency"
    opened_by = details.get("opened_by")
    return text + (f" (opened by {opened_by})" if opened_by else "")


def _alert(verb: str) -> Callable[[dict[str, Any], Names, str], str]:
    def sentence(details: dict[str, Any], names: Names, zone: str) -> str:
        title = details.get("title") or details.get("dedup_key") or "an alert"
        severity = details.get("severity")
        count = details.get("count")
        text = f"{verb}: {title}"
        if severity:
            text += f" ({severity})"
        if count:
            text += f", seen {count} times"
        return text

    return sentence


def _paged(details: dict[str, Any], names: Names, zone: str) -> str:
    level = details.get("level")
    loop = details.get("loop") or 0
    where = f"level {level}" + (f" (repeat {loop})" if loop else "")
    people = [
        f"{_person(paged.get('user_id'), names)} — {paged.get('reason', 'paged')}"
        for paged in _dicts(details.get("paged"))
    ]
    text = f"paged {where}: {'; '.join(people)}" if people else f"{where} paged nobody"
    notes = [str(note) for note in details.get("notes") or []]
    if notes:
        text += "; " + "; ".join(notes)
    cause = details.get("cause")
    if isinstance(cause, str):
        text += f" ({cause})"
    return text


def _held(details: dict[str, Any], names: Names, zone: str) -> str:
    until = _instant(details.get("until"))
    reason = details.get("reason", "held")
    return f"escalation held until {local_time(until, zone)}: {reason}"


def _exhausted(details: dict[str, Any], names: Names, zone: str) -> str:
    levels = details.get("levels")
    repeats = details.get("repeat_count") or 0
    text = "escalation ran out: every level was paged"
    if levels:
        text += f" ({levels} levels" + (f", repeated {repeats} times)" if repeats else ")")
    return text + " and nobody acknowledged"


def _resolved(details: dict[str, Any], names: Names, zone: str) -> str:
    seconds = details.get("duration_seconds")
    after = f" after {duration(seconds)}" if isinstance(seconds, int) else ""
    return f"resolved the incident{after}{_via(details)}"


def _snoozed(details: dict[str, Any], names: Names, zone: str) -> str:
    until = _instant(details.get("until"))
    return f"snoozed the incident until {local_time(until, zone)}{_via(details)}"


def _reassigned(details: dict[str, Any], names: Names, zone: str) -> str:
    name = details.get("name") or "someone"
    if details.get("escalation_policy_id"):
        return f"reassigned the incident to escalation policy {name}"
    return f"reassigned the incident to {name}"


def _channels(details: dict[str, Any]) -> str:
    channels = details.get("channels") or []
    return ", ".join(str(channel) for channel in channels) or "no channel"


def _dispatched(details: dict[str, Any], names: Names, zone: str) -> str:
    who = _person(details.get("user_id"), names)
    text = f"notifying {who} by {_channels(details)}"
    if details.get("bundled"):
        text += " (bundled into a digest)"
    return text


def _delivery(outcome: str) -> Callable[[dict[str, Any], Names, str], str]:
    def sentence(details: dict[str, Any], names: Names, zone: str) -> str:
        who = _person(details.get("user_id"), names)
        channel = details.get("channel", "message")
        text = f"{channel} to {who} {outcome}"
        reason = details.get("detail") or details.get("error") or details.get("reason")
        return text + (f": {reason}" if reason else "")

    return sentence


def _unreachable(details: dict[str, Any], names: Names, zone: str) -> str:
    who = _person(details.get("user_id"), names, details.get("name"))
    reasons = "; ".join(str(reason) for reason in details.get("reasons") or [])
    text = f"{who} could not be reached on any channel"
    raised = details.get("operations_incident")
    if raised:
        text += f"; operations incident #{raised} opened"
    return text + (f" ({reasons})" if reasons else "")


def _cancelled(details: dict[str, Any], names: Names, zone: str) -> str:
    count = details.get("deliveries", 0)
    because = details.get("because", "closed")
    return f"{count} pending notification(s) cancelled: the incident is {because}"


def _fixed(text: str) -> Callable[[dict[str, Any], Names, str], str]:
    def sentence(details: dict[str, Any], names: Names, zone: str) -> str:
        return text + _via(details)

    return sentence


def _reason(prefix: str) -> Callable[[dict[str, Any], Names, str], str]:
    def sentence(details: dict[str, Any], names: Names, zone: str) -> str:
        reason = details.get("reason")
        return f"{prefix}: {reason}" if reason else prefix

    return sentence


_SENTENCES: dict[str, tuple[str, Callable[[dict[str, Any], Names, str], str]]] = {
    "incident.triggered": ("state", _triggered),
    "alert.received": ("alert", _alert("alert received")),
    "alert.grouped": ("alert", _alert("alert grouped into this incident")),
    "alert.deduplicated": ("alert", _alert("alert repeated")),
    "alert.resolved": ("alert", _alert("alert resolved")),
    "incident.paged": ("page", _paged),
    "incident.escalated": ("page", _paged),
    "escalation.none": ("page", _reason("nobody was paged")),
    "escalation.held": ("page", _held),
    "escalation.exhausted": ("page", _exhausted),
    "incident.acknowledged": ("state", _fixed("acknowledged the incident")),
    "incident.resolved": ("state", _resolved),
    "incident.snoozed": ("state", _snoozed),
    "incident.reopened": ("state", _reason("the incident was triggered again")),
    "incident.reassigned": ("state", _reassigned),
    "incident.note_added": ("note", _fixed("added a note")),
    "notification.dispatched": ("notify", _dispatched),
    "notification.sent": ("notify", _delivery("sent")),
    "notification.delivered": ("notify", _delivery("delivered")),
    "notification.failed": ("notify", _delivery("failed")),
    "notification.unknown": ("notify", _delivery("outcome unknown")),
    "notification.unreachable": ("notify", _unreachable),
    "notification.cancelled": ("notify", _cancelled),
}


def _plain(details: dict[str, Any]) -> str:
    shown = [
        f"{key}: {value}"
        for key, value in details.items()
        if isinstance(value, str | int | float | bool) and not key.endswith("_id")
    ]
    return f" ({', '.join(shown)})" if shown else ""


def _dicts(value: object) -> list[dict[str, Any]]:
    return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []


def _uuid(value: object) -> uuid.UUID | None:
    if isinstance(value, uuid.UUID):
        return value
    if isinstance(value, str):
        try:
            return uuid.UUID(value)
        except ValueError:
            return None
    return None


def _instant(value: object) -> datetime | None:
    if isinstance(value, str):
        try:
            return datetime.fromisoformat(value)
        except ValueError:
            return None
    return None
