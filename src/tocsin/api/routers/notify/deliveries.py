"""Deliveries of an incident: every message tocsin tried, on every channel, with each
attempt's state, timestamps and error."""

from __future__ import annotations

import uuid

import sqlalchemy as sa
from fastapi import APIRouter

from tocsin.actions.incidents import queries
from tocsin.api.schemas import problems
from tocsin.api.schemas.notify import DeliveryRead
from tocsin.db.models.deliveries import Delivery
from tocsin.http.deps import CurrentActor, DbSession

router = APIRouter(prefix="/api/v1/incidents", tags=["incidents"], responses=problems.COMMON)


@router.get(
    "/{incident_id}/deliveries", response_model=list[DeliveryRead], responses=problems.NOT_FOUND
)
async def incident_deliveries(
    incident_id: uuid.UUID, session: DbSession, actor: CurrentActor
) -> list[DeliveryRead]:
    """Oldest first; digests that carried this incident are listed by their members."""
    await queries.get_incident(session, actor=actor, incident_id=incident_id)
    rows = await session.scalars(
        sa.select(Delivery)
        .where(Delivery.incident_id == incident_id)
        .order_by(Delivery.created_at, Delivery.kind)
    )
    return [DeliveryRead.model_validate(row) for row in rows]
