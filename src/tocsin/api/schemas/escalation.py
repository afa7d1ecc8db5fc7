"""Request and response bodies for escalation policies.

Levels are always sent as the whole ordered list: the first is paged first, and positions
(1..n) are given by the order, so there are no gaps to manage.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import Field

from tocsin.api.schemas.common import RequestBody, ResponseBody
from tocsin.domain import escalation
from tocsin.domain.escalation import TargetKind

Levels = Field(
    min_length=1,
    max_length=escalation.MAX_LEVELS,
    description="In escalation order; each level waits `delay_minutes` for an acknowledgement",
)


class TargetBody(RequestBody):
    kind: TargetKind = Field(
        description="`user`: that person; `schedule`: whoever is on call; "
        "`team`: its admins and responders"
    )
    id: uuid.UUID


class LevelBody(RequestBody):
    delay_minutes: int = Field(ge=1, le=escalation.MAX_DELAY_MINUTES)
    targets: list[TargetBody] = Field(min_length=1, max_length=20)


class PolicyCreate(RequestBody):
    team_id: uuid.UUID
    name: str = Field(min_length=1, max_length=100, description="Unique in the team")
    description: str = Field(default="", max_length=2000)
    repeat_count: int = Field(
        default=0,
        ge=0,
        le=escalation.MAX_REPEATS,
        description="How many more times to run all the levels before giving up",
    )
    levels: list[LevelBody] = Levels


class PolicyReplace(RequestBody):
    """Everything but the team, replaced; open incidents keep the policy they started with."""

    name: str = Field(min_length=1, max_length=100)
    description: str = Field(default="", max_length=2000)
    repeat_count: int = Field(default=0, ge=0, le=escalation.MAX_REPEATS)
    levels: list[LevelBody] = Levels


class PolicyUpdate(RequestBody):
    """Only the fields sent change; `levels` replaces every level."""

    name: str | None = Field(default=None, min_length=1, max_length=100)
    description: str | None = Field(default=None, max_length=2000)
    repeat_count: int | None = Field(default=None, ge=0, le=escalation.MAX_REPEATS)
    levels: list[LevelBody] | None = Field(
        default=None, min_length=1, max_length=escalation.MAX_LEVELS
    )


class TargetRead(ResponseBody):
    kind: TargetKind
    id: uuid.UUID


class LevelRead(ResponseBody):
    position: int = Field(description="1 is paged first")
    delay_minutes: int
    targets: list[TargetRead]


class PolicyRead(ResponseBody):
    id: uuid.UUID
    team_id: uuid.UUID
    name: str
    description: str
    repeat_count: int
    levels: list[LevelRead]
    created_at: datetime
    updated_at: datetime
