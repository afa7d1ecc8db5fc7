"""Slack: the workspaces tocsin is installed in, and what guards Slack's requests.

A Slack contact method (``contact_method`` of kind ``slack``) is a direct message to one
Slack user: its address is the Slack user id, ``details["team_id"]`` the workspace, whose
bot token here carries the message. The token is encrypted (``security.encryption``):
tocsin must present it, and a copy of the database alone must not let anyone post as
tocsin.
"""

from __future__ import annotations

import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from tocsin.db.base import Base


class SlackWorkspace(Base):
    __tablename__ = "slack_workspace"

    team_id: Mapped[str] = mapped_column(sa.String(32), primary_key=True)
    team_name: Mapped[str] = mapped_column(sa.String(200))
    bot_user_id: Mapped[str] = mapped_column(sa.String(32))
    bot_token_encrypted: Mapped[str] = mapped_column(sa.Text)
    # With token rotation on, the bot token expires and this one gets the next.
    refresh_token_encrypted: Mapped[str | None] = mapped_column(sa.Text)
    token_expires_at: Mapped[datetime | None]
    installed_by_user_id: Mapped[uuid.UUID | None] = mapped_column(
        sa.ForeignKey("user_account.id", ondelete="SET NULL")
    )
    # The app was uninstalled or its tokens revoked (Slack's events say so): no message
    # goes out through it until it is installed again.
    disabled_at: Mapped[datetime | None]
    disabled_reason: Mapped[str | None] = mapped_column(sa.String(300))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class SlackInstallState(Base):
    """The ``state`` of one OAuth install in progress: single use, bound to the admin who
    started it, short-lived. Only its digest is stored."""

    __tablename__ = "slack_install_state"

    state_hash: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    user_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("user_account.id", ondelete="CASCADE"))
    expires_at: Mapped[datetime]


class SlackSeenRequest(Base):
    """Requests from Slack already acted on, by signature, for the 5 minutes their
    timestamp is accepted: a replayed request (same body, same timestamp, so the same
    signature) changes nothing."""

    __tablename__ = "slack_seen_request"

    signature: Mapped[str] = mapped_column(sa.String(80), primary_key=True)
    seen_at: Mapped[datetime] = mapped_column(index=True)
