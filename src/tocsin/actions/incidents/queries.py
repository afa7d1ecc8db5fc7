"""Reading incidents: lists with filters, one incident with its alerts, pages and timeline.

Anyone signed in (or an API key with ``incidents:read``) may read every incident: on-call
work is shared, and people look at other teams' incidents when they are paged for them.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from tocsin.actions.actors import Actor
from tocsin.db import keyset
from tocsin.db.models.audit import AuditEvent
from tocsin.db.models.deliveries import Delivery
from tocsin.db.models.incidents import Alert, Incident, Page
from tocsin.domain.access import Action, authorize
from tocsin.domain.incidents import OPEN, IncidentStatus, Urgency
from tocsin.errors import NotFound


@dataclass(frozen=True)
class IncidentFilter:
    statuses: Sequence[IncidentStatus] = ()
    service_id: uuid.UUID | None = None
    team_id: uuid.UUID | None = None
    urgency: Urgency | None = None
    since: datetime | None = None
    until: datetime | None = None
    text: str | None = None


async def list_incidents(
    session: AsyncSession, *, actor: Actor, filters: IncidentFilter, cursor: str | None, limit: int
) -> keyset.Page[Incident]:
    """Newest first."""
    authorize(actor.principal, Action.READ_INCIDENTS)
    query = sa.select(Incident)
    if filters.statuses:
        query = query.where(Incident.status.in_(filters.statuses))
    if filters.service_id is not None:
        query = query.where(Incident.service_id == filters.service_id)
    if filters.team_id is not None:
        query = query.where(Incident.team_id == filters.team_id)
    if filters.urgency is not None:
        query = query.where(Incident.urgency == filters.urgency)
    if filters.since is not None:
        query = query.where(Incident.created_at >= filters.since)
    if filters.until is not None:
        query = query.where(Incident.created_at < filters.until)
    if filters.text:
        pattern = (
            "%" + filters.text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        )
        query = query.where(
            sa.or_(
                Incident.title.ilike(pattern, escape="\\"),
                Incident.description.ilike(pattern, escape="\\"),
            )
        )
    return await keyset.fetch_page(
        session,
        query,
        key=[Incident.created_at, Incident.id],
        cursor=cursor,
        limit=limit,
        descending=True,
    )


async def get_incident(session: AsyncSession, *, actor: Actor, incident_id: uuid.UUID) -> Incident:
    authorize(actor.principal, Action.READ_INCIDENTS)
    incident = await session.get(Incident, incident_id)
    if incident is None:
        raise NotFound("incident", incident_id)
    return incident


async def by_ids(session: AsyncSession, ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, Incident]:
    """Incidents as they are now, by id: what a bulk action answers with for those it
    changed (read again: a savepoint rolled back after them may have expired them)."""
    rows = await session.scalars(
        sa.select(Incident).where(Incident.id.in_(ids)).execution_options(populate_existing=True)
    )
    return {incident.id: incident for incident in rows.all()}


async def find_by_number(session: AsyncSession, *, actor: Actor, number: int) -> Incident:
    authorize(actor.principal, Action.READ_INCIDENTS)
    incident = await session.scalar(sa.select(Incident).where(Incident.number == number))
    if incident is None:
        raise NotFound("incident", f"#{number}")
    return incident


async def alerts_of(session: AsyncSession, incident_id: uuid.UUID) -> list[Alert]:
    rows = await session.scalars(
        sa.select(Alert)
        .where(Alert.incident_id == incident_id)
        .order_by(Alert.first_seen_at, Alert.id)
    )
    return list(rows.all())


async def pages_of(session: AsyncSession, incident_id: uuid.UUID) -> list[Page]:
    rows = await session.scalars(
        sa.select(Page)
        .where(Page.incident_id == incident_id)
        .order_by(Page.created_at, Page.step_token)
    )
    return list(rows.all())


async def timeline_of(session: AsyncSession, incident_id: uuid.UUID) -> list[AuditEvent]:
    """Every event of the incident, oldest first, from the audit trail."""
    rows = await session.scalars(
        sa.select(AuditEvent)
        .where(AuditEvent.resource_type == "incident", AuditEvent.resource_id == str(incident_id))
        .order_by(AuditEvent.id)
    )
    return list(rows.all())


async def deliveries_of(session: AsyncSession, incident_id: uuid.UUID) -> list[Delivery]:
    """Every message sent (or tried) about the incident, oldest first."""
    rows = await session.scalars(
        sa.select(Delivery)
        .where(Delivery.incident_id == incident_id)
        .order_by(Delivery.created_at, Delivery.kind, Delivery.id)
    )
    return list(rows.all())


async def open_paged_to(
    session: AsyncSession, *, actor: Actor, user_id: uuid.UUID, limit: int = 50
) -> list[Incident]:
    """Open incidents that paged ``user_id`` at least once, newest first."""
    authorize(actor.principal, Action.READ_INCIDENTS)
    paged = sa.select(Page.incident_id).where(Page.user_id == user_id)
    rows = await session.scalars(
        sa.select(Incident)
        .where(Incident.id.in_(paged), Incident.status.in_(OPEN))
        .order_by(Incident.created_at.desc(), Incident.id.desc())
        .limit(limit)
    )
    return list(rows.all())


async def count_open_of_teams(
    session: AsyncSession, *, actor: Actor, team_ids: Sequence[uuid.UUID]
) -> int:
    """Open (triggered or acknowledged) incidents of ``team_ids``: the count the pages
    show in the tab title and the nav, for the viewer's own teams."""
    authorize(actor.principal, Action.READ_INCIDENTS)
    if not team_ids:
        return 0
    count = await session.scalar(
        sa.select(sa.func.count())
        .select_from(Incident)
        .where(Incident.team_id.in_(team_ids), Incident.status.in_(OPEN))
    )
    return count or 0
