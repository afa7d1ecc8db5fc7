"""Services and their maintenance windows."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Response

from tocsin.actions.services import maintenance, services
from tocsin.api.schemas import problems
from tocsin.api.schemas.common import Page
from tocsin.api.schemas.services.services import (
    MaintenanceWindowCreate,
    MaintenanceWindowRead,
    ServiceCreate,
    ServiceRead,
    ServiceUpdate,
)
from tocsin.http.deps import CurrentActor, DbSession, Now

router = APIRouter(prefix="/api/v1/services", tags=["services"], responses=problems.COMMON)
ONE = {**problems.NOT_FOUND, **problems.CONFLICT}


@router.get("", response_model=Page[ServiceRead])
async def list_services(
    session: DbSession,
    actor: CurrentActor,
    team_id: uuid.UUID | None = None,
    search: Annotated[str | None, Query(max_length=100, description="Part of the name")] = None,
    cursor: Annotated[str | None, Query(max_length=512)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> Page[ServiceRead]:
    page = await services.list_services(
        session, actor=actor, team_id=team_id, search=search, cursor=cursor, limit=limit
    )
    return Page[ServiceRead](
        items=[ServiceRead.model_validate(item) for item in page.items],
        next_cursor=page.next_cursor,
    )


@router.post("", status_code=201, response_model=ServiceRead, responses=problems.CONFLICT)
async def create_service(
    body: ServiceCreate, session: DbSession, actor: CurrentActor, now: Now
) -> ServiceRead:
    service = await services.create_service(
        session,
        actor=actor,
        team_id=body.team_id,
        name=body.name,
        description=body.description,
        escalation_policy_id=body.escalation_policy_id,
        urgency_rule=body.urgency_rule,
        ack_timeout_minutes=body.ack_timeout_minutes,
        auto_resolve_hours=body.auto_resolve_hours,
        # Left out: the team's policy if it has exactly one; an explicit null pages nobody.
        team_policy_if_one="escalation_policy_id" not in body.model_fields_set,
        now=now,
    )
    return ServiceRead.model_validate(service)


@router.get("/{service_id}", response_model=ServiceRead, responses=problems.NOT_FOUND)
async def get_service(
    service_id: uuid.UUID, session: DbSession, actor: CurrentActor
) -> ServiceRead:
    service = await services.get_service(session, actor=actor, service_id=service_id)
    return ServiceRead.model_validate(service)


@router.patch("/{service_id}", response_model=ServiceRead, responses=ONE)
async def update_service(
    service_id: uuid.UUID, body: ServiceUpdate, session: DbSession, actor: CurrentActor, now: Now
) -> ServiceRead:
    cleared = {name for name in body.model_fields_set if getattr(body, name) is None}
    changes = services.ServiceChanges(
        name=body.name,
        description=body.description,
        team_id=body.team_id,
        escalation_policy_id=body.escalation_policy_id,
        clear_escalation_policy="escalation_policy_id" in cleared,
        urgency_rule=body.urgency_rule,
        ack_timeout_minutes=body.ack_timeout_minutes,
        clear_ack_timeout="ack_timeout_minutes" in cleared,
        auto_resolve_hours=body.auto_resolve_hours,
        clear_auto_resolve="auto_resolve_hours" in cleared,
    )
    service = await services.update_service(
        session, actor=actor, service_id=service_id, changes=changes, now=now
    )
    return ServiceRead.model_validate(service)


@router.delete("/{service_id}", status_code=204, responses=ONE)
async def delete_service(
    service_id: uuid.UUID, session: DbSession, actor: CurrentActor, now: Now
) -> Response:
    """Refused (409, naming them) while integrations, routing rules or incidents use it."""
    await services.delete_service(session, actor=actor, service_id=service_id, now=now)
    return Response(status_code=204)


@router.get(
    "/{service_id}/maintenance-windows",
    response_model=list[MaintenanceWindowRead],
    responses=problems.NOT_FOUND,
)
async def list_maintenance_windows(
    service_id: uuid.UUID, session: DbSession, actor: CurrentActor
) -> list[MaintenanceWindowRead]:
    rows = await maintenance.list_windows(session, actor=actor, service_id=service_id)
    return [MaintenanceWindowRead.model_validate(row) for row in rows]


@router.post(
    "/{service_id}/maintenance-windows",
    status_code=201,
    response_model=MaintenanceWindowRead,
    responses=problems.NOT_FOUND,
)
async def create_maintenance_window(
    service_id: uuid.UUID,
    body: MaintenanceWindowCreate,
    session: DbSession,
    actor: CurrentActor,
    now: Now,
) -> MaintenanceWindowRead:
    """During a window alerts are recorded and incidents opened, but escalation waits."""
    row = await maintenance.create_window(
        session,
        actor=actor,
        service_id=service_id,
        starts_at=body.starts_at,
        ends_at=body.ends_at,
        recurrence=body.recurrence,
        time_zone=body.time_zone,
        description=body.description,
        now=now,
    )
    return MaintenanceWindowRead.model_validate(row)


@router.delete(
    "/{service_id}/maintenance-windows/{window_id}", status_code=204, responses=problems.NOT_FOUND
)
async def delete_maintenance_window(
    service_id: uuid.UUID, window_id: uuid.UUID, session: DbSession, actor: CurrentActor, now: Now
) -> Response:
    await maintenance.delete_window(
        session, actor=actor, service_id=service_id, window_id=window_id, now=now
    )
    return Response(status_code=204)
