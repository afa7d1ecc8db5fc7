"""Request and response bodies of contact methods, notification rules and the warnings about
who cannot be reached."""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import Field

from tocsin.api.schemas.common import RequestBody, ResponseBody
from tocsin.domain.channels import ChannelKind
from tocsin.domain.incidents import Urgency


class ContactMethodRead(ResponseBody):
    id: uuid.UUID
    user_id: uuid.UUID
    kind: ChannelKind
    label: str
    address: str
    verified_at: datetime | None
    disabled_at: datetime | None
    disabled_reason: str | None = None
    created_at: datetime


class ContactMethodCreate(RequestBody):
    kind: ChannelKind = Field(
        description=(
            "`email`, `sms`, `voice` or `ntfy`; Slack, Teams and push are connected from "
            "their own pages."
        )
    )
    address: str = Field(
        min_length=3,
        max_length=320,
        examples=["alice@example.com", "+14155550123", "https://ntfy.sh/alice-pages"],
    )
    label: str = Field(default="", max_length=100)
    access_token: str | None = Field(
        default=None,
        max_length=200,
        description="For `ntfy`: the access token a protected topic needs (stored encrypted).",
    )


class VerifyCode(RequestBody):
    code: str = Field(min_length=6, max_length=6, pattern=r"^[0-9]{6}$")


class RuleStep(RequestBody):
    delay_minutes: int = Field(ge=0, le=1440, description="Minutes after the page; 0 is at once.")
    kinds: list[ChannelKind] = Field(min_length=1, max_length=6)


class UrgencyRules(RequestBody):
    urgency: Urgency
    steps: list[RuleStep] = Field(max_length=6)


class NotificationRulesRead(ResponseBody):
    high: list[RuleStep]
    low: list[RuleStep]


class NotificationSettings(RequestBody):
    on_status_change: bool = Field(
        description=(
            "Mail me when an incident I was paged for is acknowledged or resolved by someone else."
        )
    )
    on_shift_start: bool = Field(description="Mail me when my on-call shift starts.")


class ReachRead(ResponseBody):
    user_id: uuid.UUID
    name: str
    reachable_high: list[ChannelKind]
    reachable_low: list[ChannelKind]
    problems_high: list[str]
    problems_low: list[str]
    reaches_nobody: list[Urgency]


class OnCallWarning(ResponseBody):
    reach: ReachRead
    schedules: list[str]
