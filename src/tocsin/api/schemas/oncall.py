"""Request and response bodies for schedules, layers, overrides, on-call answers and feeds.

Layer ``start`` and ``end`` are local wall-clock times in the schedule's zone, written
without an offset (``2026-03-02T09:00``); everything else is an instant with an offset.
"""

from __future__ import annotations

import uuid
from datetime import datetime, time
from enum import StrEnum
from typing import Annotated

from pydantic import AfterValidator, BeforeValidator, Field, model_validator

from tocsin.api.schemas.common import Instant, RequestBody, ResponseBody, not_a_number
from tocsin.domain.schedules.overrides import OverrideKind
from tocsin.domain.schedules.rotations import (
    MAX_LENGTH_DAYS,
    MAX_LENGTH_HOURS,
    LengthUnit,
    RotationLength,
)
from tocsin.domain.schedules.timeline import SegmentKind


def _naive(value: datetime) -> datetime:
    if value.tzinfo is not None:
        raise ValueError("a local wall-clock time in the schedule's zone, without an offset")
    return value


def _whole_minutes(value: time) -> time:
    if value.tzinfo is not None or value.second or value.microsecond:
        raise ValueError("a local time of day in whole minutes, such as 09:00")
    return value


LocalDateTime = Annotated[
    datetime,
    BeforeValidator(not_a_number),
    AfterValidator(_naive),
    Field(examples=["2026-03-02T09:00:00"]),
]
LocalTime = Annotated[time, AfterValidator(_whole_minutes), Field(examples=["09:00"])]


class RotationKind(StrEnum):
    HOURLY = "hourly"
    DAILY = "daily"
    WEEKLY = "weekly"
    CUSTOM = "custom"


class RotationBody(RequestBody):
    """``custom`` needs ``unit`` and ``count``; the others imply them."""

    kind: RotationKind
    unit: LengthUnit | None = None
    count: int | None = Field(default=None, ge=1, le=MAX_LENGTH_HOURS)

    @model_validator(mode="after")
    def _complete(self) -> RotationBody:
        if self.kind is RotationKind.CUSTOM:
            if self.unit is None or self.count is None:
                raise ValueError("a custom rotation needs a unit and a count")
            if self.unit is LengthUnit.DAYS and self.count > MAX_LENGTH_DAYS:
                raise ValueError(f"a rotation is at most {MAX_LENGTH_DAYS} days long")
        elif self.unit is not None or self.count is not None:
            raise ValueError("unit and count are for custom rotations only")
        return self

    def length(self) -> RotationLength:
        if self.kind is RotationKind.HOURLY:
            return RotationLength.hourly()
        if self.kind is RotationKind.DAILY:
            return RotationLength.daily()
        if self.kind is RotationKind.WEEKLY:
            return RotationLength.weekly()
        if self.unit is None or self.count is None:
            raise ValueError("a custom rotation needs a unit and a count")
        return RotationLength(self.unit, self.count)


class RestrictionBody(RequestBody):
    days: list[Annotated[int, Field(ge=1, le=7)]] = Field(
        min_length=1, max_length=7, description="ISO weekdays: 1 = Monday … 7 = Sunday"
    )
    start: LocalTime
    end: LocalTime = Field(description="Not after `start`: the window ends the next day")


class LayerCreate(RequestBody):
    name: str = Field(min_length=1, max_length=50)
    start: LocalDateTime = Field(description="The first handoff, local wall-clock time")
    end: LocalDateTime | None = None
    rotation: RotationBody
    participants: list[uuid.UUID] = Field(default_factory=list, max_length=100)
    restrictions: list[RestrictionBody] = Field(default_factory=list, max_length=28)


class LayerUpdate(RequestBody):
    """Only the fields sent change; ``end: null`` removes the end."""

    name: str | None = Field(default=None, min_length=1, max_length=50)
    start: LocalDateTime | None = None
    end: LocalDateTime | None = None
    rotation: RotationBody | None = None
    participants: list[uuid.UUID] | None = Field(default=None, max_length=100)
    restrictions: list[RestrictionBody] | None = Field(default=None, max_length=28)


class LayerOrder(RequestBody):
    layer_ids: list[uuid.UUID] = Field(description="Every layer, top (highest priority) first")


class ScheduleCreate(RequestBody):
    team_id: uuid.UUID
    name: str = Field(min_length=1, max_length=100)
    description: str = Field(default="", max_length=2000)
    time_zone: str = Field(max_length=64, examples=["Europe/Paris"])


class ScheduleUpdate(RequestBody):
    name: str | None = Field(default=None, min_length=1, max_length=100)
    description: str | None = Field(default=None, max_length=2000)
    time_zone: str | None = Field(default=None, max_length=64)


class RestrictionRead(ResponseBody):
    days: list[int]
    start: str
    end: str


class LayerRead(ResponseBody):
    id: uuid.UUID
    name: str
    position: int = Field(description="0 is the top layer")
    start: datetime
    end: datetime | None
    length_unit: LengthUnit
    length_count: int
    participants: list[uuid.UUID]
    restrictions: list[RestrictionRead]


class ScheduleSummary(ResponseBody):
    id: uuid.UUID
    team_id: uuid.UUID
    name: str
    description: str
    time_zone: str
    created_at: datetime
    updated_at: datetime


class ScheduleRead(ScheduleSummary):
    layers: list[LayerRead]


class OverrideCreate(RequestBody):
    user_id: uuid.UUID
    starts_at: Instant
    ends_at: Instant
    replaces_user_id: uuid.UUID | None = Field(
        default=None, description="Cover only this participant; null: whoever is on call"
    )
    reason: str = Field(default="", max_length=200)


class ShiftBody(RequestBody):
    user_id: uuid.UUID
    starts_at: Instant
    ends_at: Instant


class SwapCreate(RequestBody):
    """``first.user_id`` takes the second shift, ``second.user_id`` the first."""

    first: ShiftBody
    second: ShiftBody
    reason: str = Field(default="", max_length=200)


class OverrideRead(ResponseBody):
    id: uuid.UUID
    schedule_id: uuid.UUID
    user_id: uuid.UUID
    replaces_user_id: uuid.UUID | None
    starts_at: datetime
    ends_at: datetime
    reason: str
    kind: OverrideKind
    swap_id: uuid.UUID | None
    created_by_user_id: uuid.UUID | None
    created_at: datetime


class OnCallRead(ResponseBody):
    schedule_id: uuid.UUID
    schedule_name: str
    team_id: uuid.UUID
    at: datetime
    user_id: uuid.UUID | None = Field(description="null: nobody is on call (a gap)")
    source: SegmentKind
    layer_id: uuid.UUID | None
    override_id: uuid.UUID | None


class SegmentRead(ResponseBody):
    start: datetime
    end: datetime
    user_id: uuid.UUID | None
    source: SegmentKind = Field(validation_alias="kind")
    layer_id: uuid.UUID | None
    override_id: uuid.UUID | None


class TimelineRead(ResponseBody):
    schedule_id: uuid.UUID
    time_zone: str
    since: datetime
    until: datetime
    segments: list[SegmentRead]


class HandoffRead(ResponseBody):
    schedule_id: uuid.UUID
    team_id: uuid.UUID
    at: datetime
    from_user_id: uuid.UUID | None
    to_user_id: uuid.UUID | None


class CalendarFeedCreate(RequestBody):
    schedule_id: uuid.UUID | None = Field(
        default=None, description="null: a personal feed of your shifts on every schedule"
    )


class CalendarFeedRead(ResponseBody):
    id: uuid.UUID
    schedule_id: uuid.UUID | None
    display_prefix: str
    created_at: datetime
    revoked_at: datetime | None


class CalendarFeedCreated(CalendarFeedRead):
    url: str = Field(description="Shown once: subscribe to it; keep it secret")
