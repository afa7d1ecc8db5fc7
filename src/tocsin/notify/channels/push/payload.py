"""What a push notification says, and how the push service should treat it (pure).

The payload is JSON the app's service worker (``web/static/sw.js``) shows as a
notification: title, body, the incident's page to open, and actions whose URLs are the
delivery's one-time links, posted by the service worker without opening the app. Every
notification about an incident has the same ``tag`` (in the browser) and ``Topic`` (at the
push service), so a later state change replaces it instead of piling up, on every device.

* ``Urgency: high`` for a high-urgency page (the push service wakes a sleeping phone),
  ``normal`` for the rest, ``low`` for an update of one already shown.
* ``TTL``: how long the push service keeps it for a phone that is off: until the page's
  links expire (past that the page has escalated and its actions no longer work), at
  least a minute, at most a day.

A push service takes at most 4 KB of payload: the texts are cut well inside it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from tocsin.domain.deliveries import Purpose
from tocsin.domain.notices import IncidentFacts, Notice
from tocsin.notify import wording
from tocsin.notify.channels.base import IncidentUpdate

TITLE = 120
BODY = 240
MIN_TTL = 60
MAX_TTL = 24 * 60 * 60
UPDATE_TTL = 60 * 60


@dataclass(frozen=True)
class PushMessage:
    endpoint: str
    p256dh: str
    auth: str
    payload: dict[str, Any]
    ttl: int
    urgency: str
    topic: str


def _cut(text: str, limit: int) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1].rstrip() + "…"


def topic(number: int) -> str:
    # Topic: at most 32 characters of the URL-safe base64 alphabet (RFC 8030 §5.4).
    return f"incident-{number}"


def _title(facts: IncidentFacts, level: int) -> str:
    priority = wording.priority(facts.severity)
    return _cut(
        f"{wording.escalation_prefix(level)}#{facts.number} [{priority}] {facts.title}", TITLE
    )


def _actions(acknowledge: str | None, resolve: str | None) -> list[dict[str, str]]:
    actions = [("acknowledge", "Acknowledge", acknowledge), ("resolve", "Resolve", resolve)]
    return [{"action": a, "title": t, "url": u} for a, t, u in actions if u]


def _ttl(notice: Notice) -> int:
    if notice.links_expire_at is None:
        return UPDATE_TTL
    seconds = int((notice.links_expire_at - notice.now).total_seconds())
    return max(MIN_TTL, min(MAX_TTL, seconds))


def page(notice: Notice) -> tuple[dict[str, Any], str, str]:
    """A page's payload, its ``Urgency`` and ``Topic``."""
    facts = notice.incidents[0]
    high = facts.urgency == "high"
    body = f"{facts.service} · {facts.status}"
    if facts.alert_count > 1:
        body += f" · {facts.alert_count} alerts"
    return (
        {
            "title": _title(facts, notice.level),
            "body": _cut(body, BODY),
            "tag": topic(facts.number),
            "url": facts.url,
            "status": facts.status,
            "renotify": True,
            "requireInteraction": high,
            "actions": _actions(facts.acknowledge_url, facts.resolve_url),
        },
        "high" if high else "normal",
        topic(facts.number),
    )


def digest(notice: Notice) -> tuple[dict[str, Any], str, str]:
    count = len(notice.incidents)
    worst = wording.priority(wording.highest([i.severity for i in notice.incidents]))
    where = wording.services_phrase([i.service for i in notice.incidents])
    numbers = " ".join(f"#{i.number}" for i in notice.incidents[:15])
    high = any(i.urgency == "high" for i in notice.incidents)
    tag = f"digest-{notice.delivery_id.hex[:20]}"
    return (
        {
            "title": _cut(f"[{worst}] {wording.incidents_phrase(count)} on {where}", TITLE),
            "body": _cut(numbers, BODY),
            "tag": tag,
            "url": f"{notice.base_url}/incidents",
            "status": "triggered",
            "renotify": True,
            "requireInteraction": high,
            "actions": _actions(notice.acknowledge_all_url, notice.resolve_all_url),
        },
        "high" if high else "normal",
        tag,
    )


def message(notice: Notice) -> tuple[dict[str, Any], int, str, str]:
    """Payload, TTL, ``Urgency`` and ``Topic`` of any notice."""
    if notice.purpose is Purpose.PAGE:
        payload, urgency, tag = page(notice)
        return payload, _ttl(notice), urgency, tag
    if notice.purpose is Purpose.DIGEST:
        payload, urgency, tag = digest(notice)
        return payload, _ttl(notice), urgency, tag
    if notice.purpose is Purpose.STATUS:
        facts = notice.incidents[0]
        payload = {
            "title": _title(facts, 1),
            "body": _cut(f"{str(notice.event).capitalize()} by {notice.event_by}", BODY),
            "tag": topic(facts.number),
            "url": facts.url,
            "status": facts.status,
            "renotify": False,
            "silent": True,
            "actions": [],
        }
        return payload, UPDATE_TTL, "low", topic(facts.number)
    if notice.purpose is Purpose.SHIFT:
        payload = {
            "title": _cut(f"On call: {notice.schedule}", TITLE),
            "body": "Your on-call shift starts now.",
            "tag": "shift",
            "url": f"{notice.base_url}/",
            "status": "shift",
            "renotify": True,
            "actions": [],
        }
        return payload, UPDATE_TTL, "normal", "shift"
    # A subscription is proved by the signed-in browser that made it: never a code.
    payload = {
        "title": "tocsin",
        "body": "Push notifications work on this device.",
        "tag": "verification",
        "url": f"{notice.base_url}/profile/notifications",
        "status": "verification",
        "renotify": False,
        "actions": [],
    }
    return payload, UPDATE_TTL, "normal", "verification"


def refreshed(update: IncidentUpdate) -> dict[str, Any]:
    """The notification that replaces a page once its incident moved on: no buttons
    once it is no longer triggered, and who acted."""
    facts = update.incident
    if update.resolved_by or facts.status == "resolved":
        body = f"Resolved by {update.resolved_by}" if update.resolved_by else "Resolved"
    elif update.acknowledged_by or facts.status == "acknowledged":
        body = (
            f"Acknowledged by {update.acknowledged_by}"
            if update.acknowledged_by
            else "Acknowledged"
        )
    else:
        body = f"{facts.service} · {facts.status}"
    triggered = facts.status == "triggered"
    return {
        "title": _title(facts, update.level),
        "body": _cut(body, BODY),
        "tag": topic(facts.number),
        "url": facts.url,
        "status": facts.status,
        "renotify": False,
        "silent": True,
        "actions": _actions(facts.acknowledge_url, facts.resolve_url) if triggered else [],
    }
