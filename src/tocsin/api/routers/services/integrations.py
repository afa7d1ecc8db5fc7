"""Integrations: the keys monitoring tools send alerts with, and where those alerts go."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response

from tocsin.actions.services import integrations
from tocsin.actions.services.integration_settings import Destination
from tocsin.api.schemas import problems
from tocsin.api.schemas.common import Page
from tocsin.api.schemas.services.integrations import (
    ConditionRead,
    EndpointRead,
    GroupingRead,
    IntegrationCreate,
    IntegrationKeyIssued,
    IntegrationRead,
    IntegrationUpdate,
    IntegrationUpdated,
    RoutingRuleBody,
    RoutingRuleRead,
)
from tocsin.db.models.integrations import IntegrationKind
from tocsin.domain import routing
from tocsin.errors import InvalidInput
from tocsin.http.context import context_of
from tocsin.http.deps import CurrentActor, DbSession, Now
from tocsin.ingest.endpoints import endpoints_for

router = APIRouter(prefix="/api/v1/integrations", tags=["integrations"], responses=problems.COMMON)
ONE = {**problems.NOT_FOUND, **problems.CONFLICT}
_DESTINATION_FIELDS = frozenset({"service_id", "routing_rules", "fallback_service_id"})


@router.get("", response_model=Page[IntegrationRead])
async def list_integrations(
    session: DbSession,
    actor: CurrentActor,
    service_id: Annotated[
        uuid.UUID | None, Query(description="Integrations that can send to this service")
    ] = None,
    kind: IntegrationKind | None = None,
    cursor: Annotated[str | None, Query(max_length=512)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> Page[IntegrationRead]:
    page = await integrations.list_integrations(
        session, actor=actor, service_id=service_id, kind=kind, cursor=cursor, limit=limit
    )
    return Page[IntegrationRead](
        items=[_read(item) for item in page.items], next_cursor=page.next_cursor
    )


@router.post("", status_code=201, response_model=IntegrationKeyIssued, responses=problems.CONFLICT)
async def create_integration(
    body: IntegrationCreate, request: Request, session: DbSession, actor: CurrentActor, now: Now
) -> IntegrationKeyIssued:
    """The key, the signing secret and the endpoints are shown this once."""
    saved = await integrations.create_integration(
        session,
        actor=actor,
        cipher=context_of(request).cipher,
        name=body.name,
        kind=body.kind,
        destination=Destination(
            service_id=body.service_id,
            rules=_rules(body.routing_rules),
            fallback_service_id=body.fallback_service_id,
        ),
        grouping_fields=body.grouping.fields,
        grouping_window_minutes=body.grouping.window_minutes,
        signing=body.signing,
        heartbeat_interval_minutes=body.heartbeat_interval_minutes,
        now=now,
    )
    return _issued(saved, request)


@router.get("/{integration_id}", response_model=IntegrationRead, responses=problems.NOT_FOUND)
async def get_integration(
    integration_id: uuid.UUID, session: DbSession, actor: CurrentActor
) -> IntegrationRead:
    loaded = await integrations.get_integration(session, actor=actor, integration_id=integration_id)
    return _read(loaded)


@router.patch("/{integration_id}", response_model=IntegrationUpdated, responses=ONE)
async def update_integration(
    integration_id: uuid.UUID,
    body: IntegrationUpdate,
    request: Request,
    session: DbSession,
    actor: CurrentActor,
    now: Now,
) -> IntegrationUpdated:
    sent = body.model_fields_set
    window = body.grouping.window_minutes if body.grouping else None
    changes = integrations.IntegrationChanges(
        name=body.name,
        destination=_destination(body) if sent & _DESTINATION_FIELDS else None,
        grouping_fields=body.grouping.fields if body.grouping else None,
        grouping_window_minutes=window,
        clear_grouping_window=body.grouping is not None and window is None,
        signing=body.signing,
        heartbeat_interval_minutes=body.heartbeat_interval_minutes,
        is_enabled=body.is_enabled,
    )
    saved = await integrations.update_integration(
        session,
        actor=actor,
        cipher=context_of(request).cipher,
        integration_id=integration_id,
        changes=changes,
        now=now,
    )
    return IntegrationUpdated(
        **_read(saved.loaded).model_dump(), signing_secret=saved.signing_secret
    )


@router.post("/{integration_id}/rotate-key", response_model=IntegrationKeyIssued, responses=ONE)
async def rotate_key(
    integration_id: uuid.UUID, request: Request, session: DbSession, actor: CurrentActor, now: Now
) -> IntegrationKeyIssued:
    """A new key, shown this once; the old key stops working at once."""
    saved = await integrations.rotate_key(
        session, actor=actor, integration_id=integration_id, now=now
    )
    return _issued(saved, request)


@router.delete("/{integration_id}", status_code=204, responses=ONE)
async def delete_integration(
    integration_id: uuid.UUID, session: DbSession, actor: CurrentActor, now: Now
) -> Response:
    """Its alerts and incidents are kept; its key stops working at once."""
    await integrations.delete_integration(
        session, actor=actor, integration_id=integration_id, now=now
    )
    return Response(status_code=204)


def _destination(body: IntegrationUpdate) -> Destination:
    if body.service_id is None and body.fallback_service_id is None:
        raise InvalidInput(
            "service_id", "send service_id, or fallback_service_id with routing_rules"
        )
    return Destination(
        service_id=body.service_id,
        rules=_rules(body.routing_rules or []),
        fallback_service_id=body.fallback_service_id,
    )


def _rules(bodies: list[RoutingRuleBody]) -> tuple[routing.Rule, ...]:
    return tuple(
        routing.Rule(
            service_id=body.service_id,
            conditions=tuple(
                routing.Condition(condition.field, condition.operator, condition.value)
                for condition in body.conditions
            ),
        )
        for body in bodies
    )


def _read(loaded: integrations.LoadedIntegration) -> IntegrationRead:
    integration = loaded.integration
    return IntegrationRead(
        id=integration.id,
        name=integration.name,
        kind=integration.kind,
        key_prefix=integration.key_prefix,
        service_id=integration.service_id,
        routing_rules=[
            RoutingRuleRead(
                service_id=rule.service_id,
                conditions=[
                    ConditionRead(field=c.field, operator=c.operator, value=c.value)
                    for c in rule.conditions
                ],
            )
            for rule in loaded.rules
        ],
        fallback_service_id=integration.fallback_service_id,
        grouping=GroupingRead(
            fields=list(integration.grouping_fields),
            window_minutes=integration.grouping_window_minutes,
        ),
        signing=integration.signing_secret_encrypted is not None,
        heartbeat_interval_minutes=integration.heartbeat_interval_minutes,
        heartbeat_state=integration.heartbeat_state,
        heartbeat_expires_at=integration.heartbeat_expires_at,
        is_enabled=integration.is_enabled,
        created_at=integration.created_at,
        updated_at=integration.updated_at,
        last_event_at=integration.last_event_at,
    )


def _issued(saved: integrations.Saved, request: Request) -> IntegrationKeyIssued:
    assert saved.key is not None  # creation and rotation always issue a key
    settings = context_of(request).settings
    base = settings.public_url or str(request.base_url)
    endpoints = endpoints_for(saved.loaded.integration.kind.value, saved.key, base)
    return IntegrationKeyIssued(
        **_read(saved.loaded).model_dump(),
        signing_secret=saved.signing_secret,
        key=saved.key,
        endpoints=[
            EndpointRead(
                method=endpoint.method,
                url=endpoint.url,
                description=endpoint.description,
                headers=dict(endpoint.headers),
                body_fields=dict(endpoint.body_fields),
            )
            for endpoint in endpoints
        ],
    )
