from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from pydantic import Field

from tocsin.api.schemas.common import RequestBody, ResponseBody
from tocsin.api.schemas.identity.audit import AuditEventRead
from tocsin.api.schemas.problems import Problem
from tocsin.domain.alerts import Severity
from tocsin.domain.incidents import AlertStatus, IncidentStatus, Urgency


class IncidentRead(ResponseBody):
    id: uuid.UUID
    number: int
    title: str
    description: str
    service_id: uuid.UUID
    team_id: uuid.UUID
    status: IncidentStatus
    urgency: Urgency
    severity: Severity
    alert_count: int
    created_at: datetime
    updated_at: datetime
    acknowledged_at: datetime | None
    acknowledged_by: str | None
    resolved_at: datetime | None
    resolved_by: str | None
    snoozed_until: datetime | None
    escalation_level: int
    escalation_loop: int
    next_escalation_at: datetime | None
    escalation_exhausted_at: datetime | None
    last_alert_at: datetime | None


class AlertRead(ResponseBody):
    id: uuid.UUID
    integration_id: uuid.UUID | None
    dedup_key: str
    status: AlertStatus
    title: str
    description: str
    severity: Severity
    source: str
    labels: dict[str, Any]
    details: dict[str, Any]
    links: list[dict[str, str]]
    count: int
    first_seen_at: datetime
    last_seen_at: datetime
    occurred_at: datetime | None
    resolved_at: datetime | None


class PageRead(ResponseBody):
    id: uuid.UUID
    user_id: uuid.UUID
    level: int
    loop: int
    reason: str
    created_at: datetime


class IncidentDetail(IncidentRead):
    alerts: list[AlertRead]
    pages: list[PageRead]
    timeline: list[AuditEventRead]


class IncidentCreate(RequestBody):
    service_id: uuid.UUID
    title: str = Field(min_length=1, max_length=1024)
    description: str = Field(default="", max_length=100_000)
    severity: Severity = Severity.CRITICAL


class ResolveRequest(RequestBody):
    note: str | None = Field(default=None, max_length=10_000)


class SnoozeRequest(RequestBody):
    minutes: int = Field(ge=1, le=7 * 24 * 60)


class ReassignRequest(RequestBody):
    """Exactly one of the two."""

    user_id: uuid.UUID | None = None
    escalation_policy_id: uuid.UUID | None = None


class EscalateRequest(RequestBody):
    """Omit ``level`` to escalate to the next level."""

    level: int | None = Field(default=None, ge=1, le=20)


class NoteCreate(RequestBody):
    text: str = Field(min_length=1, max_length=10_000)


class BulkRequest(RequestBody):
    """The incidents to act on, each on its own: one refused leaves the others done."""

    incident_ids: list[uuid.UUID] = Field(min_length=1, max_length=100)


class BulkFailure(ResponseBody):
    incident_id: uuid.UUID
    # What a request for this incident alone would have been answered (403, 404, 409).
    problem: Problem


class BulkResult(ResponseBody):
    """Each incident named (repeats once) is in ``done`` or in ``failed``."""

    done: list[IncidentRead]
    failed: list[BulkFailure]
