"""The append-only audit trail: one row per change, whoever made it.

Rows are only ever inserted; the migration installs a trigger that refuses UPDATE and
DELETE, so not even a bug can rewrite history. Incident timelines are read from here too.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from tocsin.db.base import Base, text_enum
from tocsin.domain.access import PrincipalKind


class AuditEvent(Base):
    __tablename__ = "audit_event"

    id: Mapped[int] = mapped_column(sa.BigInteger, sa.Identity(), primary_key=True)
    occurred_at: Mapped[datetime] = mapped_column(index=True)
    actor_kind: Mapped[PrincipalKind] = mapped_column(text_enum(PrincipalKind))
    # Plain ids, not foreign keys: history must survive the deletion of what it mentions.
    actor_id: Mapped[uuid.UUID | None] = mapped_column(index=True)
    actor_label: Mapped[str] = mapped_column(sa.String(320))
    action: Mapped[str] = mapped_column(sa.String(80), index=True)
    resource_type: Mapped[str] = mapped_column(sa.String(40))
    resource_id: Mapped[str | None] = mapped_column(sa.String(64))
    team_id: Mapped[uuid.UUID | None] = mapped_column(index=True)
    details: Mapped[dict[str, Any]] = mapped_column(default=dict)
    ip_address: Mapped[str | None] = mapped_column(sa.String(45))
    user_agent: Mapped[str | None] = mapped_column(sa.String(512))

    __table_args__ = (sa.Index("ix_audit_event_resource", "resource_type", "resource_id", "id"),)
