"""Deliveries and what sending needs: magic links, provider circuits, the local outbox.

The delivery row is also the send queue (``next_attempt_at``) and the lease of a send in
flight (``lease_until`` while ``sending``): due work lives on the row it concerns and is
claimed with ``FOR UPDATE SKIP LOCKED`` (see ``engine/deliveries.py``). A page has at most
one delivery per contact method (a unique constraint), so no channel is sent twice for one
page even if two dispatchers raced.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from tocsin.db.base import Base, text_enum, uuid_pk
from tocsin.domain.channels import ChannelKind
from tocsin.domain.circuits import CircuitState
from tocsin.domain.deliveries import DeliveryStatus, Purpose


class Delivery(Base):
    __tablename__ = "delivery"

    id: Mapped[uuid.UUID] = uuid_pk()
    purpose: Mapped[Purpose] = mapped_column(text_enum(Purpose))
    page_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("page.id", ondelete="CASCADE"))
    incident_id: Mapped[uuid.UUID | None] = mapped_column(
        sa.ForeignKey("incident.id", ondelete="CASCADE"), index=True
    )
    user_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("user_account.id", ondelete="CASCADE"), index=True
    )
    contact_method_id: Mapped[uuid.UUID | None] = mapped_column(
        sa.ForeignKey("contact_method.id", ondelete="SET NULL"), index=True
    )
    kind: Mapped[ChannelKind] = mapped_column(text_enum(ChannelKind))
    tier: Mapped[int] = mapped_column(sa.SmallInteger, default=0)
    status: Mapped[DeliveryStatus] = mapped_column(text_enum(DeliveryStatus))
    # A bundled delivery goes out inside this digest delivery.
    digest_id: Mapped[uuid.UUID | None] = mapped_column(
        sa.ForeignKey("delivery.id", ondelete="SET NULL"), index=True
    )
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime | None]
    lease_until: Mapped[datetime | None]
    provider: Mapped[str | None] = mapped_column(sa.String(64))
    provider_message_id: Mapped[str | None] = mapped_column(sa.String(512))
    error_code: Mapped[str | None] = mapped_column(sa.String(64))
    error_detail: Mapped[str | None] = mapped_column(sa.String(1000))
    # What the message says beyond the incident (a status change, a shift, a code), and
    # the email thread ids.
    details: Mapped[dict[str, Any]] = mapped_column(default=dict)
    # Deliveries that are not pages are unique by what they announce (one shift notice).
    dedup_key: Mapped[str | None] = mapped_column(sa.String(200), unique=True)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    first_attempt_at: Mapped[datetime | None]
    last_attempt_at: Mapped[datetime | None]
    sent_at: Mapped[datetime | None]
    delivered_at: Mapped[datetime | None]
    # For channels whose sent pages change with their incident (a Slack message updated,
    # a push notification replaced): the incident's ``updated_at`` the message last showed.
    refreshed_version: Mapped[datetime | None]
    failed_at: Mapped[datetime | None]
    cancelled_at: Mapped[datetime | None]

    __table_args__ = (
        sa.UniqueConstraint("page_id", "contact_method_id"),
        sa.Index(
            "ix_delivery_due",
            "next_attempt_at",
            postgresql_where=sa.text("next_attempt_at IS NOT NULL"),
        ),
        sa.Index(
            "ix_delivery_lease", "lease_until", postgresql_where=sa.text("status = 'sending'")
        ),
        sa.Index(
            "ix_delivery_method_sent",
            "contact_method_id",
            "sent_at",
            postgresql_where=sa.text("sent_at IS NOT NULL"),
        ),
        sa.CheckConstraint(
            "status = 'sending' OR lease_until IS NULL", name="only_sending_has_lease"
        ),
        sa.CheckConstraint("attempts >= 0", name="attempts_non_negative"),
    )


class MagicLink(Base):
    """A one-click action in an email, bound to its recipient, an action and an incident
    (or a digest delivery, whose incidents it covers). Only the SHA-256 is stored."""

    __tablename__ = "magic_link"

    id: Mapped[uuid.UUID] = uuid_pk()
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    action: Mapped[str] = mapped_column(sa.String(16))
    user_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("user_account.id", ondelete="CASCADE"))
    incident_id: Mapped[uuid.UUID | None] = mapped_column(
        sa.ForeignKey("incident.id", ondelete="CASCADE"), index=True
    )
    digest_id: Mapped[uuid.UUID | None] = mapped_column(
        sa.ForeignKey("delivery.id", ondelete="CASCADE"), index=True
    )
    delivery_id: Mapped[uuid.UUID | None] = mapped_column(
        sa.ForeignKey("delivery.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]

    __table_args__ = (
        sa.CheckConstraint("action IN ('acknowledge', 'resolve')", name="action_known"),
        sa.CheckConstraint(
            "(incident_id IS NULL) <> (digest_id IS NULL)", name="one_incident_or_digest"
        ),
    )


class ProviderCircuit(Base):
    """The circuit breaker of one provider, shared by every tocsin process."""

    __tablename__ = "provider_circuit"

    provider: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    state: Mapped[CircuitState] = mapped_column(text_enum(CircuitState))
    failures: Mapped[int] = mapped_column(default=0)
    open_until: Mapped[datetime | None]
    probe_until: Mapped[datetime | None]
    updated_at: Mapped[datetime]


class OutboxMessage(Base):
    """A mail delivered to tocsin's own outbox (no SMTP server configured)."""

    __tablename__ = "outbox_message"

    id: Mapped[uuid.UUID] = uuid_pk()
    message_id: Mapped[str] = mapped_column(sa.String(256), index=True)
    recipient: Mapped[str] = mapped_column(sa.String(320))
    subject: Mapped[str] = mapped_column(sa.String(1000))
    text_body: Mapped[str] = mapped_column(sa.Text)
    html_body: Mapped[str] = mapped_column(sa.Text)
    raw: Mapped[str] = mapped_column(sa.Text)
    created_at: Mapped[datetime] = mapped_column(index=True)


class NotifyCursor(Base):
    """How far a notifier has looked (shift starts announced up to ``position``)."""

    __tablename__ = "notify_cursor"

    name: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    position: Mapped[datetime]
