"""Schedules, their layers and participants, overrides, and calendar feeds.

Only the rules are stored (a layer's rotation and restriction windows), never the shifts
they produce: ``domain.schedules`` computes shifts on demand. A layer's start and end are
local wall-clock times in the schedule's zone, stored as ``timestamp without time zone``
and never cast to ``timestamptz`` by PostgreSQL (which would read an ambiguous 01:30 as
the *second* occurrence); overrides are real intervals, stored as ``timestamptz``.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import Mapped, mapped_column

from tocsin.db.base import Base, text_enum, uuid_pk
from tocsin.domain.schedules.overrides import OverrideKind
from tocsin.domain.schedules.rotations import LengthUnit


class Schedule(Base):
    __tablename__ = "schedule"

    id: Mapped[uuid.UUID] = uuid_pk()
    # Indexed by the unique (team_id, lower(name)) index below.
    team_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("team.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(sa.String(100))
    description: Mapped[str] = mapped_column(sa.String(2000), default="")
    time_zone: Mapped[str] = mapped_column(sa.String(64))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]

    __table_args__ = (
        sa.Index("uq_schedule_team_id_name_lower", team_id, sa.func.lower(name), unique=True),
    )


class ScheduleLayer(Base):
    __tablename__ = "schedule_layer"

    id: Mapped[uuid.UUID] = uuid_pk()
    schedule_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("schedule.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(sa.String(50))
    # 0 is the top layer; the action keeps positions contiguous.
    position: Mapped[int]
    start_local: Mapped[datetime] = mapped_column(sa.DateTime(timezone=False))
    end_local: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=False))
    length_unit: Mapped[LengthUnit] = mapped_column(text_enum(LengthUnit))
    length_count: Mapped[int]
    # Rotation offset set when participants change, so whoever is on call stays on call.
    phase: Mapped[int] = mapped_column(default=0)
    # [{"days": [1, 2, 3, 4, 5], "start": "09:00", "end": "17:00"}, ...]; empty = always.
    restrictions: Mapped[list[dict[str, Any]]] = mapped_column(postgresql.JSONB, default=list)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]

    __table_args__ = (
        sa.CheckConstraint("length_count >= 1", name="length_positive"),
        sa.CheckConstraint("position >= 0", name="position_not_negative"),
        sa.CheckConstraint("end_local IS NULL OR end_local > start_local", name="ends_after_start"),
    )


class ScheduleLayerParticipant(Base):
    __tablename__ = "schedule_layer_participant"

    layer_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("schedule_layer.id", ondelete="CASCADE"), primary_key=True
    )
    position: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("user_account.id", ondelete="CASCADE"), index=True
    )


class ScheduleOverride(Base):
    __tablename__ = "schedule_override"

    id: Mapped[uuid.UUID] = uuid_pk()
    schedule_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("schedule.id", ondelete="CASCADE"))
    user_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("user_account.id", ondelete="CASCADE"), index=True
    )
    replaces_user_id: Mapped[uuid.UUID | None] = mapped_column(
        sa.ForeignKey("user_account.id", ondelete="CASCADE")
    )
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime]
    reason: Mapped[str] = mapped_column(sa.String(200), default="")
    kind: Mapped[OverrideKind] = mapped_column(text_enum(OverrideKind))
    # The two halves of a swap share it; deleting one half deletes both.
    swap_id: Mapped[uuid.UUID | None] = mapped_column(index=True)
    created_by_user_id: Mapped[uuid.UUID | None] = mapped_column(
        sa.ForeignKey("user_account.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime]

    __table_args__ = (
        sa.CheckConstraint("ends_at > starts_at", name="ends_after_start"),
        sa.Index("ix_schedule_override_schedule_id_ends_at", "schedule_id", "ends_at"),
    )


class CalendarFeed(Base):
    """A secret iCalendar URL: one person's shifts, or one schedule's, until revoked."""

    __tablename__ = "calendar_feed"

    id: Mapped[uuid.UUID] = uuid_pk()
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    display_prefix: Mapped[str] = mapped_column(sa.String(16))
    owner_user_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("user_account.id", ondelete="CASCADE"), index=True
    )
    # Null for a personal feed (the owner's shifts on every schedule).
    schedule_id: Mapped[uuid.UUID | None] = mapped_column(
        sa.ForeignKey("schedule.id", ondelete="CASCADE"), index=True
    )
    created_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]
