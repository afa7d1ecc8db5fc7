"""Teams and who belongs to them, with which role."""

from __future__ import annotations

import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from tocsin.db.base import Base, text_enum, uuid_pk
from tocsin.domain.access import TeamRole


class Team(Base):
    __tablename__ = "team"

    id: Mapped[uuid.UUID] = uuid_pk()
    name: Mapped[str] = mapped_column(sa.String(100))
    description: Mapped[str] = mapped_column(sa.String(2000), default="")
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]

    __table_args__ = (
        # Team names are unique regardless of case: "SRE" and "sre" would confuse everyone.
        sa.Index("uq_team_name_lower", sa.func.lower(name), unique=True),
    )


class TeamMembership(Base):
    __tablename__ = "team_membership"

    team_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("team.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("user_account.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    role: Mapped[TeamRole] = mapped_column(text_enum(TeamRole))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
