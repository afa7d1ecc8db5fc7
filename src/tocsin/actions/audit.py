"""Writing and reading the audit trail.

``record`` is called by every action in the same transaction as the change it describes:
the event exists if and only if the change committed.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, LiteralString

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from tocsin.actions.actors import Actor
from tocsin.db import driver, keyset
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


# Many events of one action at once, from one JSON array of (resource id, team id,
# details): the notification engine writes an event per page dispatched and per mail
# sent, hundreds a second under load, where one INSERT per event would cost more than the
# work it describes. Constant SQL on the session's own connection (``db.driver``), so it
# is prepared once; one ``json.dumps`` is far cheaper than adapting arrays of values.
_RECORD_MANY: LiteralString = """
    INSERT INTO audit_event (
        occurred_at, actor_kind, actor_id, actor_label, action, resource_type, resource_id,
        team_id, details, ip_address, user_agent
    )
    SELECT %(now)s, %(actor_kind)s, %(actor_id)s, %(actor_label)s, %(action)s,
           %(resource_type)s, event.value ->> 'resource_id',
           CAST(event.value ->> 'team_id' AS uuid), event.value -> 'details',
           %(ip_address)s, %(user_agent)s
    FROM jsonb_array_elements(CAST(%(events)s AS jsonb)) WITH ORDINALITY
        AS event(value, position)
    ORDER BY event.position
    """


@dataclass(frozen=True)
class Event:
    """One event of ``record_many``."""

    resource_id: object | None
    team_id: uuid.UUID | None
    details: dict[str, Any]


async def record_many(
    session: AsyncSession,
    *,
    actor: Actor,
    action: str,
    resource_type: str,
    now: datetime,
    events: Sequence[Event],
) -> None:
    """``record`` for many events of one action, in one statement, in order."""
    if not events:
        return
    await driver.execute(
        session,
        _RECORD_MANY,
        {
            "now": now,
            "actor_kind": actor.principal.kind.value,
            "actor_id": actor.principal.id,
            "actor_label": actor.principal.label[:320],
            "action": action,
            "resource_type": resource_type,
            "ip_address": actor.ip_address,
            "user_agent": (actor.user_agent or None) and actor.user_agent[:512],
            "events": json.dumps(
                [
                    {
                        "resource_id": None if e.resource_id is None else str(e.resource_id),
                        "team_id": e.team_id,
                        "details": e.details,
                    }
                    for e in events
                ],
                default=str,
            ),
        },
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
