"""Request and response bodies for services and their maintenance windows."""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import Field

from tocsin.api.schemas.common import Instant, RequestBody, ResponseBody
from tocsin.domain.incidents import UrgencyRule

AckTimeout = Field(
    default=None, ge=1, le=10080, description="Minutes until an acknowledged incident re-fires"
)
AutoResolve = Field(
    default=None, ge=1, le=8760, description="Hours after which an open incident resolves itself"
)


class ServiceRead(ResponseBody):
    id: uuid.UUID
    team_id: uuid.UUID
    name: str
    description: str
    escalation_policy_id: uuid.UUID | None
    urgency_rule: UrgencyRule
    ack_timeout_minutes: int | None
    auto_resolve_hours: int | None
    created_at: datetime
    updated_at: datetime


class ServiceCreate(RequestBody):
    team_id: uuid.UUID = Field(description="The owning team; its admins manage the service")
    name: str = Field(min_length=1, max_length=100, description="Unique, whatever the case")
    description: str = Field(default="", max_length=2000)
    escalation_policy_id: uuid.UUID | None = Field(
        default=None,
        description=(
            "Any team's policy; null: incidents open but page nobody. Left out: the team's"
            " policy when the team has exactly one, else none"
        ),
    )
    urgency_rule: UrgencyRule = Field(
        default=UrgencyRule.SEVERITY,
        description="`severity`: high for critical and error alerts, low otherwise",
    )
    ack_timeout_minutes: int | None = AckTimeout
    auto_resolve_hours: int | None = AutoResolve


class ServiceUpdate(RequestBody):
    """Only the fields sent change; `null` removes the policy, the acknowledgement timeout
    or the auto-resolve delay."""

    team_id: uuid.UUID | None = Field(
        default=None, description="Moving a service takes admin rights in both teams"
    )
    name: str | None = Field(default=None, min_length=1, max_length=100)
    description: str | None = Field(default=None, max_length=2000)
    escalation_policy_id: uuid.UUID | None = None
    urgency_rule: UrgencyRule | None = None
    ack_timeout_minutes: int | None = AckTimeout
    auto_resolve_hours: int | None = AutoResolve


class MaintenanceWindowCreate(RequestBody):
    starts_at: Instant
    ends_at: Instant = Field(description="After `starts_at`; a recurring window lasts ≤ 7 days")
    recurrence: str | None = Field(
        default=None,
        max_length=500,
        description=(
            "An RFC 5545 RRULE (FREQ=DAILY, WEEKLY or MONTHLY); occurrences start at the "
            "wall-clock time of `starts_at` in `time_zone`. Null: a one-off window."
        ),
        examples=["FREQ=WEEKLY;BYDAY=SU"],
    )
    time_zone: str = Field(default="UTC", max_length=64, examples=["Europe/Paris"])
    description: str = Field(default="", max_length=500)


class MaintenanceWindowRead(ResponseBody):
    id: uuid.UUID
    service_id: uuid.UUID
    description: str
    starts_at: datetime
    ends_at: datetime
    recurrence: str | None
    time_zone: str
    created_at: datetime
