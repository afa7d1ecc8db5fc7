"""Who texted tocsin, and which incident they mean: the database side of SMS replies."""

from __future__ import annotations

import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from tocsin.actions.identity import contact_methods
from tocsin.db.models.contact_methods import ContactMethod
from tocsin.db.models.deliveries import Delivery
from tocsin.db.models.incidents import Incident
from tocsin.db.models.users import User
from tocsin.domain.channels import ChannelKind
from tocsin.domain.incidents import IncidentStatus


async def people_at(session: AsyncSession, number: str) -> list[User]:
    """The active people with a verified SMS method at ``number``."""
    rows = await session.scalars(
        sa.select(User)
        .join(ContactMethod, ContactMethod.user_id == User.id)
        .where(
            ContactMethod.kind == ChannelKind.SMS,
            ContactMethod.address == number,
            ContactMethod.verified_at.is_not(None),
            User.is_active.is_(True),
        )
        .distinct()
    )
    return list(rows.all())


async def incident_by_number(session: AsyncSession, number: int) -> uuid.UUID | None:
    return await session.scalar(sa.select(Incident.id).where(Incident.number == number))


async def only_open_incident_texted(session: AsyncSession, number: str) -> list[uuid.UUID]:
    """The open incidents that were texted to ``number`` (``A`` alone means the one)."""
    rows = await session.scalars(
        sa.select(Incident.id)
        .join(Delivery, Delivery.incident_id == Incident.id)
        .join(ContactMethod, ContactMethod.id == Delivery.contact_method_id)
        .where(
            ContactMethod.kind == ChannelKind.SMS,
            ContactMethod.address == number,
            Delivery.sent_at.is_not(None),
            Incident.status != IncidentStatus.RESOLVED,
        )
        .distinct()
        .limit(2)
    )
    return list(rows.all())


async def opt_out(session: AsyncSession, number: str, *, stop: bool, now: datetime) -> int:
    """STOP disables every SMS method at the number (no text goes there again, and the
    person sees why on their settings page); START enables them again."""
    methods = (
        await session.scalars(
            sa.select(ContactMethod.id).where(
                ContactMethod.kind == ChannelKind.SMS, ContactMethod.address == number
            )
        )
    ).all()
    changed = 0
    for method_id in methods:
        if stop:
            changed += await contact_methods.disable(
                session, method_id=method_id, reason="replied STOP", now=now
            )
        else:
            changed += await contact_methods.enable(session, method_id=method_id, now=now)
    return changed
