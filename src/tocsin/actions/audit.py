"""Writing and reading the audit trail.

``record`` is called by every action in the same transaction as the change it describes:
the event exists if and only if the change committed.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from tocsin.actions.actors import Actor
from tocsin.db import keyset
from tocsin.db.models.audit import AuditEvent
from tocsin.domain.access import Action, PrincipalKind, TeamRole, authorize, is_allowed
from tocsin.errors import PermissionDenied


async def record(
    session: AsyncSession,
    *,
    actor: Actor,
    action: str,
    resource_type: str,
    resource_id: object | None,
    now: datetime,
    team_id: uuid.UUID | None = None,
    details: dict[str, Any] | None = None,
) -> None:
    # A plain INSERT, not an ORM object: events are never read back in the transaction
    # that writes them, and intake writes one per alert, so the unit of work is overhead.
    await session.execute(
        sa.insert(AuditEvent).values(
            occurred_at=now,
            actor_kind=actor.principal.kind,
            actor_id=actor.principal.id,
            actor_label=actor.principal.label[:320],
            action=action,
            resource_type=resource_type,
            resource_id=None if resource_id is None else str(resource_id),
            team_id=team_id,
            details=details or {},
            ip_address=actor.ip_address,
            user_agent=(actor.user_agent or None) and actor.user_agent[:512],
        )
    )


@dataclass(frozen=True)
class AuditFilter:
    action: str | None = None
    resource_type: str | None = None
    resource_id: str | None = None
    actor_id: uuid.UUID | None = None
    team_id: uuid.UUID | None = None
    since: datetime | None = None
    until: datetime | None = None


async def list_events(
    session: AsyncSession,
    *,
    actor: Actor,
    filters: AuditFilter,
    cursor: str | None,
    limit: int,
) -> keyset.Page[AuditEvent]:
    """Newest first. Platform admins (and scoped API keys) see everything; team admins see
    the events of their teams."""
    query = sa.select(AuditEvent)
    if not is_allowed(actor.principal, Action.READ_ALL_AUDIT):
        query = query.where(AuditEvent.team_id.in_(_visible_teams(actor, filters.team_id)))
    if filters.action is not None:
        query = query.where(AuditEvent.action == filters.action)
    if filters.resource_type is not None:
        query = query.where(AuditEvent.resource_type == filters.resource_type)
    if filters.resource_id is not None:
        query = query.where(AuditEvent.resource_id == filters.resource_id)
    if filters.actor_id is not None:
        query = query.where(AuditEvent.actor_id == filters.actor_id)
    if filters.team_id is not None:
        query = query.where(AuditEvent.team_id == filters.team_id)
    if filters.since is not None:
        query = query.where(AuditEvent.occurred_at >= filters.since)
    if filters.until is not None:
        query = query.where(AuditEvent.occurred_at < filters.until)
    return await keyset.fetch_page(
        session, query, key=AuditEvent.id, cursor=cursor, limit=limit, descending=True
    )


def _visible_teams(actor: Actor, team_id: uuid.UUID | None) -> Sequence[uuid.UUID]:
    """The teams whose events a non-platform-admin may read; raises if none."""
    principal = actor.principal
    if principal.kind is not PrincipalKind.USER:
        authorize(principal, Action.READ_ALL_AUDIT)  # raises the precise error (e.g. scope)
    if team_id is not None:
        authorize(principal, Action.READ_TEAM_AUDIT, team_id=team_id)
        return [team_id]
    administered = [
        team for team, role in principal.team_roles.items() if role.at_least(TeamRole.ADMIN)
    ]
    if not administered:
        raise PermissionDenied(f"{principal.label} administers no team", action="audit.read")
    return administered
