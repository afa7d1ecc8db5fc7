"""Escalation policies: ordered levels, each with targets and a wait."""

from __future__ import annotations

import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from tocsin.db.base import Base, text_enum, uuid_pk
from tocsin.domain.escalation import TargetKind


class EscalationPolicy(Base):
    __tablename__ = "escalation_policy"

    id: Mapped[uuid.UUID] = uuid_pk()
    team_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("team.id", ondelete="RESTRICT"), index=True
    )
    name: Mapped[str] = mapped_column(sa.String(100))
    description: Mapped[str] = mapped_column(sa.String(2000), default="")
    repeat_count: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]

    __table_args__ = (
        sa.Index(
            "uq_escalation_policy_team_id_name_lower", team_id, sa.func.lower(name), unique=True
        ),
        sa.CheckConstraint("repeat_count BETWEEN 0 AND 9", name="repeat_count_range"),
    )


class EscalationLevel(Base):
    __tablename__ = "escalation_level"

    id: Mapped[uuid.UUID] = uuid_pk()
    policy_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("escalation_policy.id", ondelete="CASCADE")
    )
    # 1-based; the action writes levels as a whole list, so positions have no gaps.
    position: Mapped[int]
    delay_minutes: Mapped[int]

    __table_args__ = (
        sa.UniqueConstraint("policy_id", "position"),
        sa.CheckConstraint("position BETWEEN 1 AND 20", name="position_range"),
        sa.CheckConstraint("delay_minutes BETWEEN 1 AND 1440", name="delay_range"),
    )


class EscalationTarget(Base):
    __tablename__ = "escalation_target"

    id: Mapped[uuid.UUID] = uuid_pk()
    level_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("escalation_level.id", ondelete="CASCADE"), index=True
    )
    # 0-based order within the level, as written: the API reads back what it was given.
    position: Mapped[int]
    kind: Mapped[TargetKind] = mapped_column(text_enum(TargetKind))
    # Exactly one of these, matching ``kind``. RESTRICT: what a policy pages cannot vanish
    # under it; deleting a schedule or team in use is refused, naming the policy.
    user_id: Mapped[uuid.UUID | None] = mapped_column(
        sa.ForeignKey("user_account.id", ondelete="RESTRICT"), index=True
    )
    schedule_id: Mapped[uuid.UUID | None] = mapped_column(
        sa.ForeignKey("schedule.id", ondelete="RESTRICT"), index=True
    )
    team_id: Mapped[uuid.UUID | None] = mapped_column(
        sa.ForeignKey("team.id", ondelete="RESTRICT"), index=True
    )

    __table_args__ = (
        sa.UniqueConstraint("level_id", "position"),
        sa.CheckConstraint(
            "(kind = 'user' AND user_id IS NOT NULL AND schedule_id IS NULL AND team_id IS NULL)"
            " OR (kind = 'schedule' AND schedule_id IS NOT NULL AND user_id IS NULL"
            " AND team_id IS NULL)"
            " OR (kind = 'team' AND team_id IS NOT NULL AND user_id IS NULL"
            " AND schedule_id IS NULL)",
            name="one_target",
        ),
    )
