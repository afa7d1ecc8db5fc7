"""Integrations (where alerts come in), their routing rules and the log of what arrived."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import Mapped, mapped_column

from tocsin.db.base import Base, text_enum, uuid_pk


class IntegrationKind(StrEnum):
    PAGERDUTY_EVENTS_V2 = "pagerduty_events_v2"
    ALERTMANAGER = "alertmanager"
    GRAFANA = "grafana"
    OPSGENIE = "opsgenie"
    DATADOG = "datadog"
    NEWRELIC = "newrelic"
    GENERIC = "generic"
    HEARTBEAT = "heartbeat"


class HeartbeatState(StrEnum):
    WAITING = "waiting"  # no ping yet: nothing can be missed before the first one
    OK = "ok"
    MISSED = "missed"


class Integration(Base):
    __tablename__ = "integration"

    id: Mapped[uuid.UUID] = uuid_pk()
    name: Mapped[str] = mapped_column(sa.String(100))
    kind: Mapped[IntegrationKind] = mapped_column(text_enum(IntegrationKind))
    key_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    key_prefix: Mapped[str] = mapped_column(sa.String(16))
    # Either a service (everything goes there) or routing rules plus a fallback service.
    service_id: Mapped[uuid.UUID | None] = mapped_column(
        sa.ForeignKey("service.id", ondelete="RESTRICT"), index=True
    )
    fallback_service_id: Mapped[uuid.UUID | None] = mapped_column(
        sa.ForeignKey("service.id", ondelete="RESTRICT"), index=True
    )
    # Fields whose values form the group key (empty: every alert is its own incident).
    grouping_fields: Mapped[list[str]] = mapped_column(
        postgresql.ARRAY(sa.String(100)), default=list
    )
    grouping_window_minutes: Mapped[int | None]
    # Fernet-encrypted HMAC secret (Grafana, Standard Webhooks): it must be replayable.
    signing_secret_encrypted: Mapped[str | None] = mapped_column(sa.Text)
    heartbeat_interval_minutes: Mapped[int | None]
    heartbeat_expires_at: Mapped[datetime | None]
    heartbeat_state: Mapped[HeartbeatState | None] = mapped_column(text_enum(HeartbeatState))
    is_enabled: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    last_event_at: Mapped[datetime | None]

    __table_args__ = (
        sa.Index("uq_integration_name_lower", sa.func.lower(name), unique=True),
        sa.CheckConstraint(
            "(service_id IS NOT NULL) <> (fallback_service_id IS NOT NULL)",
            name="service_or_fallback",
        ),
        sa.CheckConstraint(
            "(kind = 'heartbeat') = (heartbeat_interval_minutes IS NOT NULL)",
            name="heartbeat_interval",
        ),
        sa.CheckConstraint(
            "grouping_window_minutes IS NULL OR grouping_window_minutes BETWEEN 1 AND 10080",
            name="grouping_window_range",
        ),
        sa.Index(
            "ix_integration_heartbeat_due",
            "heartbeat_expires_at",
            postgresql_where=sa.text("kind = 'heartbeat' AND heartbeat_state = 'ok'"),
        ),
    )


class RoutingRule(Base):
    __tablename__ = "routing_rule"

    id: Mapped[uuid.UUID] = uuid_pk()
    integration_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("integration.id", ondelete="CASCADE")
    )
    position: Mapped[int]
    service_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("service.id", ondelete="RESTRICT"), index=True
    )
    # [{"field": "labels.cluster", "operator": "equals", "value": "eu-1"}, ...]
    conditions: Mapped[list[dict[str, str]]] = mapped_column(postgresql.JSONB)

    __table_args__ = (sa.UniqueConstraint("integration_id", "position"),)


class EventOutcome(StrEnum):
    APPLIED = "applied"
    IGNORED = "ignored"
    REJECTED = "rejected"


class InboundEvent(Base):
    """One row per request an integration received, whatever became of it.

    ``idempotency_key`` (from an ``Idempotency-Key`` or Standard Webhooks ``webhook-id``
    header) is unique among *applied* events only: a tool retrying an event that was
    applied gets the original answer and changes nothing, while a retry of an event that
    failed is processed as new (the original recorded failed retries as duplicates).
    ``request_sha256`` tells a retry (the same request again) from another event sent
    under a key already used, which is refused; it is kept only for events with a key.
    """

    __tablename__ = "inbound_event"

    id: Mapped[int] = mapped_column(sa.BigInteger, sa.Identity(), primary_key=True)
    integration_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("integration.id", ondelete="CASCADE")
    )
    received_at: Mapped[datetime]
    idempotency_key: Mapped[str | None] = mapped_column(sa.String(255))
    outcome: Mapped[EventOutcome] = mapped_column(text_enum(EventOutcome))
    http_status: Mapped[int] = mapped_column(sa.SmallInteger)
    detail: Mapped[str] = mapped_column(sa.String(2000), default="")
    response: Mapped[dict[str, Any]] = mapped_column(default=dict)
    body: Mapped[str] = mapped_column(sa.Text, default="")
    request_sha256: Mapped[bytes | None] = mapped_column(sa.LargeBinary)

    __table_args__ = (
        sa.Index("ix_inbound_event_integration_time", "integration_id", "received_at"),
        sa.Index(
            "uq_inbound_event_applied_key",
            "integration_id",
            "idempotency_key",
            unique=True,
            postgresql_where=sa.text("outcome = 'applied' AND idempotency_key IS NOT NULL"),
        ),
    )


class IntakeAllowance(Base):
    """An integration's intake rate limit, one token bucket shared by every process
    (``actions.intake.allowances``): ``tokens`` as of ``refilled_at``; ``granted`` is what
    the last take handed out, read back by the statement that took it."""

    __tablename__ = "intake_allowance"

    integration_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("integration.id", ondelete="CASCADE"), primary_key=True
    )
    tokens: Mapped[float] = mapped_column(sa.Float)
    refilled_at: Mapped[datetime]
    granted: Mapped[int] = mapped_column(sa.Integer, default=0)
