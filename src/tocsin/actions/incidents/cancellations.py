"""What acknowledging or resolving an incident does to its notifications.

Called by ``actions.incidents`` inside the transition's own transaction, so there is no
moment at which an incident is acknowledged and a delivery of it is still due: every
pending delivery, on every channel, is cancelled with the change, and pages not yet
dispatched will never be. A delivery already ``sending`` (claimed before the change
committed) is in flight and cannot be called back; its outcome is still recorded.

People who asked to hear about it (``notification_setting.on_status_change``) and were
paged for the incident get a status notice, unless they made the change themselves.
"""

from __future__ import annotations

import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from tocsin.actions import audit
from tocsin.actions.actors import Actor, system_actor
from tocsin.actions.identity import contact_methods
from tocsin.actions.wake import wake_engine
from tocsin.db.models.contact_methods import NotificationSetting
from tocsin.db.models.deliveries import Delivery
from tocsin.db.models.incidents import Incident, Page
from tocsin.domain import deliveries as rules
from tocsin.domain.channels import ChannelKind
from tocsin.domain.deliveries import DeliveryStatus, Purpose

NOTIFIER = system_actor("notifier")
# Status notices are informational: they go to the gentle channels only.
STATUS_KINDS = (ChannelKind.EMAIL, ChannelKind.PUSH, ChannelKind.SLACK, ChannelKind.TEAMS)


async def cancel_pending(session: AsyncSession, *, incident: Incident, now: datetime) -> int:
    await session.execute(
        sa.update(Page)
        .where(Page.incident_id == incident.id, Page.dispatched_at.is_(None))
        .values(dispatched_at=now)
        .execution_options(synchronize_session=False)
    )
    cancelled = (
        await session.scalars(
            sa.update(Delivery)
            .where(
                Delivery.incident_id == incident.id,
                Delivery.purpose == Purpose.PAGE,
                Delivery.status.in_(list(rules.PENDING)),
            )
            .values(
                status=DeliveryStatus.CANCELLED,
                cancelled_at=now,
                next_attempt_at=None,
                updated_at=now,
            )
            .returning(Delivery.id)
            .execution_options(synchronize_session=False)
        )
    ).all()
    if cancelled:
        await audit.record(
            session,
            actor=NOTIFIER,
            action="notification.cancelled",
            resource_type="incident",
            resource_id=incident.id,
            team_id=incident.team_id,
            now=now,
            details={"deliveries": len(cancelled), "because": incident.status.value},
        )
    return len(cancelled)


async def announce(
    session: AsyncSession, *, incident: Incident, event: str, actor: Actor, now: datetime
) -> int:
    """Queue status notices for the opted-in people paged for ``incident``."""
    methods = await contact_methods.opted_in_methods(
        session,
        users=sa.select(Page.user_id).where(Page.incident_id == incident.id),
        opt_in=NotificationSetting.on_status_change,
        kinds=STATUS_KINDS,
    )
    rows = [
        {
            "id": uuid.uuid4(),
            "purpose": Purpose.STATUS,
            "incident_id": incident.id,
            "user_id": method.user_id,
            "contact_method_id": method.id,
            "kind": method.kind,
            "tier": 0,
            "status": DeliveryStatus.QUEUED,
            "next_attempt_at": now,
            "attempts": 0,
            "details": {"event": event, "by": actor.principal.label, "at": now.isoformat()},
            "dedup_key": f"status:{incident.id}:{event}:{method.id}",
            "created_at": now,
            "updated_at": now,
        }
        for method in methods
        if method.user_id != actor.user_id
    ]
    if rows:
        await session.execute(insert(Delivery).values(rows).on_conflict_do_nothing())
        await wake_engine(session, "deliveries")
    return len(rows)
