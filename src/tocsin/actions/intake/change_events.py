"""Change events (deploys, config pushes): recorded on the service, paging nobody.

They give responders context: "what changed just before this broke?". The integration's
service receives them; a global integration sends them to its fallback service (routing
rules match alerts, and a change event is not an alert).
"""

from __future__ import annotations

import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from tocsin.actions.intake import inbound_events
from tocsin.actions.intake.lookups import IntakeIntegration
from tocsin.db.executors import OnSession
from tocsin.db.models.integrations import EventOutcome
from tocsin.db.models.services import ChangeEvent as ChangeEventRow
from tocsin.domain.alerts import ChangeEvent


async def record(
    session: AsyncSession,
    *,
    integration: IntakeIntegration,
    change: ChangeEvent,
    body: bytes,
    now: datetime,
) -> uuid.UUID:
    service_id = integration.service_id or integration.fallback_service_id
    assert service_id is not None  # CHECK service_or_fallback
    change_id = uuid.uuid4()
    await session.execute(
        sa.insert(ChangeEventRow).values(
            id=change_id,
            service_id=service_id,
            integration_id=integration.id,
            summary=change.summary,
            source=change.source[:255],
            occurred_at=change.timestamp,
            received_at=now,
            links=[link.as_json() for link in change.links],
            details=dict(change.custom_details),
        )
    )
    await inbound_events.record(
        OnSession(session),
        integration=integration,
        outcome=EventOutcome.APPLIED,
        http_status=202,
        body=body,
        now=now,
        detail=f"change event: {change.summary}"[:2000],
    )
    return change_id
