"""Incidents, the alerts folded into them, and the page records escalation writes.

The incident row is also the escalation queue (``next_escalation_at``) and the reopen
timer (``reopen_at``): due work lives on the row it concerns, claimed with
``FOR UPDATE SKIP LOCKED`` (see ``engine/``). ``escalation_token`` increases with every
escalation change; page rows carry the token of the step that wrote them, and a unique
index on (incident, token, user) makes "the same step pages the same person twice"
impossible even if two engines raced.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import Mapped, mapped_column

from tocsin.db.base import Base, text_enum, uuid_pk
from tocsin.domain.alerts import Severity
from tocsin.domain.incidents import AlertStatus, IncidentStatus, Urgency

incident_number = sa.Sequence("incident_number_seq", metadata=Base.metadata)


class Incident(Base):
    __tablename__ = "incident"
    # Fetch the server-assigned number on INSERT, so a new incident knows its #number.
    __mapper_args__ = {"eager_defaults": True}

    id: Mapped[uuid.UUID] = uuid_pk()
    # Human number (#1234), digits only so SMS replies can quote it.
    number: Mapped[int] = mapped_column(
        sa.BigInteger, incident_number, server_default=incident_number.next_value(), unique=True
    )
    service_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("service.id", ondelete="RESTRICT"))
    team_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("team.id", ondelete="RESTRICT"), index=True
    )
    title: Mapped[str] = mapped_column(sa.String(1024))
    description: Mapped[str] = mapped_column(sa.Text, default="")
    severity: Mapped[Severity] = mapped_column(text_enum(Severity))
    urgency: Mapped[Urgency] = mapped_column(text_enum(Urgency))
    status: Mapped[IncidentStatus] = mapped_column(text_enum(IncidentStatus))
    created_at: Mapped[datetime] = mapped_column(index=True)
    # The incident's version: strictly later at every change (``next_version``).
    updated_at: Mapped[datetime]
    acknowledged_at: Mapped[datetime | None]
    acknowledged_by: Mapped[str | None] = mapped_column(sa.String(320))
    acknowledged_by_user_id: Mapped[uuid.UUID | None]
    resolved_at: Mapped[datetime | None]
    resolved_by: Mapped[str | None] = mapped_column(sa.String(320))
    resolved_by_user_id: Mapped[uuid.UUID | None]
    # When an acknowledged incident goes back to triggered (ack timeout or snooze end).
    reopen_at: Mapped[datetime | None]
    snoozed_until: Mapped[datetime | None]
    group_key: Mapped[str | None] = mapped_column(sa.String(64))
    group_until: Mapped[datetime | None]
    alert_count: Mapped[int] = mapped_column(default=0)
    last_alert_at: Mapped[datetime | None]
    escalation_policy_id: Mapped[uuid.UUID | None] = mapped_column(
        sa.ForeignKey("escalation_policy.id", ondelete="SET NULL")
    )
    # Frozen by the engine at the first escalation step (null until then), so editing
    # the policy later never changes an escalation in flight.
    escalation_snapshot: Mapped[dict[str, Any] | None]
    escalation_level: Mapped[int] = mapped_column(default=0)
    escalation_loop: Mapped[int] = mapped_column(default=0)
    escalation_token: Mapped[int] = mapped_column(default=0)
    next_escalation_at: Mapped[datetime | None]
    escalation_exhausted_at: Mapped[datetime | None]
    # The maintenance hold already noted on the timeline, so it is written once per window.
    held_until: Mapped[datetime | None]

    __table_args__ = (
        sa.Index(
            "ix_incident_escalation_due",
            "next_escalation_at",
            postgresql_where=sa.text("next_escalation_at IS NOT NULL"),
        ),
        sa.Index(
            "ix_incident_reopen_due", "reopen_at", postgresql_where=sa.text("reopen_at IS NOT NULL")
        ),
        sa.Index(
            "ix_incident_open_group",
            "service_id",
            "group_key",
            postgresql_where=sa.text("status <> 'resolved' AND group_key IS NOT NULL"),
        ),
        sa.Index("ix_incident_service_status", "service_id", "status"),
        # The follow-up lane looks for incidents changed lately (``engine/follow_ups.py``).
        sa.Index("ix_incident_updated_at", "updated_at"),
        sa.Index(
            "ix_incident_open_last_alert",
            "last_alert_at",
            postgresql_where=sa.text("status <> 'resolved'"),
        ),
        sa.CheckConstraint(
            "status = 'triggered' OR next_escalation_at IS NULL", name="only_triggered_escalates"
        ),
        sa.CheckConstraint(
            "status = 'acknowledged' OR reopen_at IS NULL", name="only_acked_reopens"
        ),
    )


# The least step between two versions of one incident.
VERSION_STEP = timedelta(microseconds=1)


def next_version(now: datetime) -> sa.ColumnElement[datetime]:
    """``updated_at`` for a transition of an incident: ``now``, or just after the last
    version when that is later.

    Chat and push channels compare the version with what they last showed
    (``engine/follow_ups.py``) to find what to refresh. A transition written with a clock
    that ties or lags the last change (two requests in one microsecond, hosts whose
    clocks disagree) must still look newer, or it would never be shown.
    """
    return sa.func.greatest(now, Incident.updated_at + VERSION_STEP)


def kept_version(now: datetime) -> sa.ColumnElement[datetime]:
    """``updated_at`` for an escalation step or hold: ``now``, but never earlier than the
    version already written. A step taken in the same transaction as a transition (an
    escalation by hand) must not undo the transition's newer version, which would hide
    the change from the channels; it needs no version of its own beyond that. (The
    hand-written statements spell it ``GREATEST(%(now)s, incident.updated_at)``.)
    """
    return sa.func.greatest(now, Incident.updated_at)


class Alert(Base):
    __tablename__ = "alert"

    id: Mapped[uuid.UUID] = uuid_pk()
    integration_id: Mapped[uuid.UUID | None] = mapped_column(
        sa.ForeignKey("integration.id", ondelete="SET NULL")
    )
    incident_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("incident.id", ondelete="CASCADE"), index=True
    )
    dedup_key: Mapped[str] = mapped_column(sa.String(512))
    status: Mapped[AlertStatus] = mapped_column(text_enum(AlertStatus))
    title: Mapped[str] = mapped_column(sa.String(1024))
    description: Mapped[str] = mapped_column(sa.Text, default="")
    severity: Mapped[Severity] = mapped_column(text_enum(Severity))
    source: Mapped[str] = mapped_column(sa.String(1024), default="")
    labels: Mapped[dict[str, Any]] = mapped_column(default=dict)
    details: Mapped[dict[str, Any]] = mapped_column(default=dict)
    links: Mapped[list[dict[str, str]]] = mapped_column(postgresql.JSONB, default=list)
    count: Mapped[int] = mapped_column(default=1)
    first_seen_at: Mapped[datetime]
    last_seen_at: Mapped[datetime]
    occurred_at: Mapped[datetime | None]
    resolved_at: Mapped[datetime | None]

    __table_args__ = (
        # One open alert per identity per integration: concurrent triggers for the same key
        # meet here (INSERT … ON CONFLICT) and become one alert with a count.
        sa.Index(
            "uq_alert_open_identity",
            "integration_id",
            "dedup_key",
            unique=True,
            postgresql_where=sa.text("status = 'firing'"),
        ),
    )


class Page(Base):
    """One person paged for one escalation step: what the notification side delivers."""

    __tablename__ = "page"

    id: Mapped[uuid.UUID] = uuid_pk()
    incident_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("incident.id", ondelete="CASCADE"), index=True
    )
    user_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("user_account.id", ondelete="CASCADE"))
    level: Mapped[int]
    loop: Mapped[int]
    step_token: Mapped[int]
    reason: Mapped[str] = mapped_column(sa.String(500))
    created_at: Mapped[datetime]
    # Set when the notification dispatcher has turned the page into deliveries (the
    # dispatch queue is the pages where this is null), and when every channel failed.
    dispatched_at: Mapped[datetime | None]
    unreachable_at: Mapped[datetime | None]

    __table_args__ = (
        sa.UniqueConstraint("incident_id", "step_token", "user_id"),
        sa.Index(
            "ix_page_undispatched", "created_at", postgresql_where=sa.text("dispatched_at IS NULL")
        ),
        # A person's recent pages (bundling); also serves the foreign key's cascade.
        sa.Index("ix_page_user_id_created_at", "user_id", "created_at"),
    )
