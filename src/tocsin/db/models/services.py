"""Services (what alerts are about), their maintenance windows and change events."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import Mapped, mapped_column

from tocsin.db.base import Base, text_enum, uuid_pk
from tocsin.domain.incidents import UrgencyRule


class Service(Base):
    __tablename__ = "service"

    id: Mapped[uuid.UUID] = uuid_pk()
    team_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("team.id", ondelete="RESTRICT"), index=True
    )
    name: Mapped[str] = mapped_column(sa.String(100))
    description: Mapped[str] = mapped_column(sa.String(2000), default="")
    # RESTRICT: a policy in use by a service cannot be deleted.
    escalation_policy_id: Mapped[uuid.UUID | None] = mapped_column(
        sa.ForeignKey("escalation_policy.id", ondelete="RESTRICT"), index=True
    )
    urgency_rule: Mapped[UrgencyRule] = mapped_column(text_enum(UrgencyRule))
    ack_timeout_minutes: Mapped[int | None]
    auto_resolve_hours: Mapped[int | None]
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]

    __table_args__ = (
        sa.Index("uq_service_name_lower", sa.func.lower(name), unique=True),
        sa.CheckConstraint(
            "ack_timeout_minutes IS NULL OR ack_timeout_minutes BETWEEN 1 AND 10080",
            name="ack_timeout_range",
        ),
        sa.CheckConstraint(
            "auto_resolve_hours IS NULL OR auto_resolve_hours BETWEEN 1 AND 8760",
            name="auto_resolve_range",
        ),
    )


class MaintenanceWindow(Base):
    __tablename__ = "maintenance_window"

    id: Mapped[uuid.UUID] = uuid_pk()
    service_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("service.id", ondelete="CASCADE"), index=True
    )
    description: Mapped[str] = mapped_column(sa.String(500), default="")
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime]
    # An RFC 5545 RRULE (FREQ=DAILY|WEEKLY|MONTHLY…); null for a one-off window.
    recurrence: Mapped[str | None] = mapped_column(sa.String(500))
    time_zone: Mapped[str] = mapped_column(sa.String(64), default="UTC")
    created_at: Mapped[datetime]

    __table_args__ = (sa.CheckConstraint("ends_at > starts_at", name="ends_after_start"),)


class ChangeEvent(Base):
    """A deploy or config change reported by a tool: context on the service, pages nobody."""

    __tablename__ = "change_event"

    id: Mapped[uuid.UUID] = uuid_pk()
    service_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("service.id", ondelete="CASCADE"))
    integration_id: Mapped[uuid.UUID | None] = mapped_column(
        sa.ForeignKey("integration.id", ondelete="SET NULL")
    )
    summary: Mapped[str] = mapped_column(sa.String(1024))
    source: Mapped[str] = mapped_column(sa.String(255), default="")
    occurred_at: Mapped[datetime]
    received_at: Mapped[datetime]
    links: Mapped[list[dict[str, str]]] = mapped_column(postgresql.JSONB, default=list)
    details: Mapped[dict[str, Any]] = mapped_column(default=dict)

    __table_args__ = (sa.Index("ix_change_event_service_time", "service_id", "occurred_at"),)
