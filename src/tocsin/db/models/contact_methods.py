"""How people are reached: contact methods, their verification, chat links, rules.

A contact method is usable only once verified (``verified_at``). Slack and Teams links hold
OAuth tokens encrypted with ``security.encryption.Cipher``: tocsin must replay them, so a
digest would not do, and a copy of the database alone must not let anyone post as tocsin.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from tocsin.db.base import Base, text_enum, uuid_pk
from tocsin.domain.channels import ChannelKind
from tocsin.domain.incidents import Urgency


class ContactMethod(Base):
    __tablename__ = "contact_method"

    id: Mapped[uuid.UUID] = uuid_pk()
    user_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("user_account.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[ChannelKind] = mapped_column(text_enum(ChannelKind))
    label: Mapped[str] = mapped_column(sa.String(100), default="")
    # An email address, an E.164 number, a push endpoint URL, or a Slack/Teams user id.
    address: Mapped[str] = mapped_column(sa.String(2048))
    # Kind-specific data: a push subscription's keys; empty otherwise.
    details: Mapped[dict[str, Any]] = mapped_column(default=dict)
    verified_at: Mapped[datetime | None]
    # Set when the provider reports the method gone (a push 410, an SMS STOP).
    disabled_at: Mapped[datetime | None]
    # Why, in words for its owner ("Slack: token_revoked", "replied STOP").
    disabled_reason: Mapped[str | None] = mapped_column(sa.String(300))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]

    __table_args__ = (sa.UniqueConstraint("user_id", "kind", "address"),)


class ContactVerification(Base):
    """The pending proof that a person owns a contact method: a 6-digit code (SMS, voice)
    or a link (email). One per method; sending a new one replaces it."""

    __tablename__ = "contact_verification"

    id: Mapped[uuid.UUID] = uuid_pk()
    contact_method_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("contact_method.id", ondelete="CASCADE"), unique=True
    )
    # SHA-256 of "<method id>:<code>" for codes, of the token for links.
    secret_hash: Mapped[str] = mapped_column(sa.String(64))
    attempts: Mapped[int] = mapped_column(default=0)
    sent_at: Mapped[datetime]
    expires_at: Mapped[datetime]

    __table_args__ = (sa.CheckConstraint("attempts BETWEEN 0 AND 5", name="attempts_range"),)


class SlackLink(Base):
    __tablename__ = "slack_link"

    id: Mapped[uuid.UUID] = uuid_pk()
    user_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("user_account.id", ondelete="CASCADE"), unique=True
    )
    slack_user_id: Mapped[str] = mapped_column(sa.String(64))
    slack_team_id: Mapped[str] = mapped_column(sa.String(64))
    access_token_encrypted: Mapped[str] = mapped_column(sa.Text)
    refresh_token_encrypted: Mapped[str | None] = mapped_column(sa.Text)
    expires_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]

    __table_args__ = (sa.UniqueConstraint("slack_team_id", "slack_user_id"),)


class TeamsLink(Base):
    __tablename__ = "teams_link"

    id: Mapped[uuid.UUID] = uuid_pk()
    user_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("user_account.id", ondelete="CASCADE"), unique=True
    )
    # The Azure AD object id and tenant.
    teams_user_id: Mapped[str] = mapped_column(sa.String(64))
    tenant_id: Mapped[str] = mapped_column(sa.String(64))
    access_token_encrypted: Mapped[str] = mapped_column(sa.Text)
    refresh_token_encrypted: Mapped[str | None] = mapped_column(sa.Text)
    expires_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]

    __table_args__ = (sa.UniqueConstraint("tenant_id", "teams_user_id"),)


class NotificationRule(Base):
    """For pages of ``urgency``, use every verified method of ``kind`` after ``delay``."""

    __tablename__ = "notification_rule"

    id: Mapped[uuid.UUID] = uuid_pk()
    user_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("user_account.id", ondelete="CASCADE"), index=True
    )
    urgency: Mapped[Urgency] = mapped_column(text_enum(Urgency))
    kind: Mapped[ChannelKind] = mapped_column(text_enum(ChannelKind))
    delay_minutes: Mapped[int]
    created_at: Mapped[datetime]

    __table_args__ = (
        sa.UniqueConstraint("user_id", "urgency", "kind"),
        sa.CheckConstraint("delay_minutes BETWEEN 0 AND 1440", name="delay_range"),
    )


class NotificationSetting(Base):
    """A person's opt-ins beyond pages. No row means both are off."""

    __tablename__ = "notification_setting"

    user_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("user_account.id", ondelete="CASCADE"), primary_key=True
    )
    # Tell me when an incident I was paged for is acknowledged or resolved by someone else.
    on_status_change: Mapped[bool] = mapped_column(default=False)
    # Tell me when my on-call shift starts.
    on_shift_start: Mapped[bool] = mapped_column(default=False)
    updated_at: Mapped[datetime]
