from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query

from tocsin.actions import audit
from tocsin.api.schemas import problems
from tocsin.api.schemas.common import Instant, Page
from tocsin.api.schemas.identity.audit import AuditEventRead
from tocsin.http.deps import CurrentActor, DbSession

router = APIRouter(prefix="/api/v1/audit-events", tags=["audit"], responses=problems.COMMON)


@router.get("", response_model=Page[AuditEventRead])
async def list_audit_events(
    session: DbSession,
    actor: CurrentActor,
    action: Annotated[str | None, Query(max_length=80)] = None,
    resource_type: Annotated[str | None, Query(max_length=40)] = None,
    resource_id: Annotated[str | None, Query(max_length=64)] = None,
    actor_id: uuid.UUID | None = None,
    team_id: uuid.UUID | None = None,
    since: Instant | None = None,
    until: Instant | None = None,
    cursor: Annotated[str | None, Query(max_length=512)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> Page[AuditEventRead]:
    """Newest first. Platform admins see every event; team admins their teams' events."""
    page = await audit.list_events(
        session,
        actor=actor,
        filters=audit.AuditFilter(
            action=action,
            resource_type=resource_type,
            resource_id=resource_id,
            actor_id=actor_id,
            team_id=team_id,
            since=since,
            until=until,
        ),
        cursor=cursor,
        limit=limit,
    )
    return Page[AuditEventRead](
        items=[AuditEventRead.model_validate(event) for event in page.items],
        next_cursor=page.next_cursor,
    )
