"""What a channel renders: a notice, read from the database while the delivery is claimed.

A ``Notice`` holds everything a message says, already resolved (links minted, times in
UTC, names looked up), so that rendering is a pure function of it and is golden-tested.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from tocsin.domain.deliveries import Purpose


@dataclass(frozen=True)
class IncidentFacts:
    id: uuid.UUID
    number: int
    title: str
    description: str
    service: str
    team: str
    urgency: str
    severity: str
    status: str
    triggered_at: datetime
    alert_count: int
    url: str
    acknowledge_url: str | None = None
    resolve_url: str | None = None


@dataclass(frozen=True)
class Recipient:
    user_id: uuid.UUID
    name: str
    address: str
    time_zone: str
    # What the contact method keeps beside its address (a push subscription's keys).
    method_details: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Notice:
    delivery_id: uuid.UUID
    purpose: Purpose
    recipient: Recipient
    now: datetime
    base_url: str
    incidents: tuple[IncidentFacts, ...] = ()
    # The escalation level of the page (1 is the first page, not an escalation).
    level: int = 1
    # Digest actions, covering every incident in it.
    acknowledge_all_url: str | None = None
    resolve_all_url: str | None = None
    links_expire_at: datetime | None = None
    # A status change: what happened, by whom, when.
    event: str | None = None
    event_by: str | None = None
    event_at: datetime | None = None
    # The start of a shift.
    schedule: str | None = None
    # Verifying a contact method.
    verification_url: str | None = None
    verification_code: str | None = None
    # An invitation: the one-time sign-in link (valid until ``links_expire_at``) and who
    # invited them (``event_by``).
    sign_in_url: str | None = None
    # Email threading: this message's id and the thread it belongs to.
    message_id: str | None = None
    thread_id: str | None = None
    extra: dict[str, str] = field(default_factory=dict)


def thread_id(incident_id: uuid.UUID, user_id: uuid.UUID, domain: str) -> str:
    """The Message-ID of the first mail about an incident to a person: every later mail
    about it (escalations, status changes) refers to it, so the incident is one thread."""
    return f"<incident.{incident_id}.{user_id}@{domain}>"
