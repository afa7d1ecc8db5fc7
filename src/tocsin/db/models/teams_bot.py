"""Microsoft Teams bot: the personal conversations people opened with tocsin's bot.

Installing the bot in Teams (personal scope) opens a one-to-one conversation; Bot
Connector tells tocsin its id and service URL in a ``conversationUpdate``, and those are
what a proactive message needs. They are kept here per Teams user (tenant + Entra object
id) from the install on, linked or not: linking later copies them into the person's
contact method (``contact_method.details``), so a page needs no join.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from tocsin.db.base import Base


class TeamsConversation(Base):
    __tablename__ = "teams_conversation"

    tenant_id: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    aad_object_id: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    # The user's id in Bot Connector (``29:…``) and the bot's (``28:…``).
    teams_user_id: Mapped[str] = mapped_column(sa.String(200))
    bot_id: Mapped[str] = mapped_column(sa.String(200))
    conversation_id: Mapped[str] = mapped_column(sa.String(300))
    service_url: Mapped[str] = mapped_column(sa.String(500))
    installed_at: Mapped[datetime]
    # The person removed the bot: no message reaches them until they add it again.
    removed_at: Mapped[datetime | None]
    updated_at: Mapped[datetime]
