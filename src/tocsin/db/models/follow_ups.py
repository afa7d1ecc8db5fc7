"""Shared places incidents are posted to, and the posts kept in step with them.

A service names places (a Slack channel, a Teams Workflows webhook) in ``post_target``,
and so can a team for all its services; every incident of the service (or of the team)
created after the place was named gets one ``incident_post`` there, which the engine's
follow-up lane (``engine/follow_ups.py``) creates, posts, and brings in step whenever
the incident's ``updated_at`` passes the version last shown (``synced_version``). The
lane leases a post while it calls the channel, so two engines never post the same
incident twice to one place.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from tocsin.db.base import Base, text_enum, uuid_pk
from tocsin.domain.channels import ChannelKind


class PostTarget(Base):
    __tablename__ = "post_target"

    id: Mapped[uuid.UUID] = uuid_pk()
    # Whose place it is: one service's, or a team's (then every incident of the team's
    # services is posted there). Exactly one is set.
    service_id: Mapped[uuid.UUID | None] = mapped_column(
        sa.ForeignKey("service.id", ondelete="CASCADE"), index=True
    )
    team_id: Mapped[uuid.UUID | None] = mapped_column(
        sa.ForeignKey("team.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[ChannelKind] = mapped_column(text_enum(ChannelKind))
    label: Mapped[str] = mapped_column(sa.String(100), default="")
    # Encrypted (``security.encryption``): a Teams Workflows URL carries its own signature,
    # so it is a credential; a Slack channel id is not, but one rule for all is simpler.
    address_encrypted: Mapped[str] = mapped_column(sa.Text)
    details: Mapped[dict[str, Any]] = mapped_column(default=dict)
    # Set when the channel says the place is gone (channel archived, webhook deleted).
    broken_at: Mapped[datetime | None]
    broken_reason: Mapped[str | None] = mapped_column(sa.String(300))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]

    __table_args__ = (
        sa.CheckConstraint("num_nonnulls(service_id, team_id) = 1", name="one_owner"),
    )


class IncidentPost(Base):
    __tablename__ = "incident_post"

    id: Mapped[uuid.UUID] = uuid_pk()
    target_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("post_target.id", ondelete="CASCADE")
    )
    incident_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("incident.id", ondelete="CASCADE"), index=True
    )
    # The channel's reference to the post (a Slack "channel:ts"); None until first posted.
    reference: Mapped[str | None] = mapped_column(sa.String(512))
    # The incident's ``updated_at`` the post last showed; None until first posted.
    synced_version: Mapped[datetime | None]
    # The last audit event the post's thread has shown.
    synced_event_id: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime]
    lease_until: Mapped[datetime | None]
    error_detail: Mapped[str | None] = mapped_column(sa.String(1000))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]

    __table_args__ = (sa.UniqueConstraint("target_id", "incident_id"),)
