"""The Opsgenie Alert API subset, for teams leaving Opsgenie: create, acknowledge, close.

``Authorization: GenieKey <integration key>``; alerts are named by ``alias``. Answers are
Opsgenie's: 202 ``{"result": "Request will be processed", "took", "requestId"}``.
"""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse

from tocsin.api.deps import DbSession, Now, client_ip
from tocsin.api.intake import find_integration, idempotency_key, log_rejection
from tocsin.api.schemas import problems
from tocsin.api.schemas.intake import IngestBody, OpsgenieAccepted
from tocsin.db.models.integrations import Integration
from tocsin.errors import NotAuthenticated, TocsinError
from tocsin.ingest import pipeline
from tocsin.ingest.errors import UnsupportedEvent
from tocsin.ingest.formats.opsgenie import Opsgenie, OpsgenieAction, accepted_body, genie_key
from tocsin.ingest.model import InboundAlert

router = APIRouter(
    prefix="/v2/alerts", tags=["intake"], responses={**problems.COMMON, **problems.NOT_FOUND}
)

FORMAT = Opsgenie()
_OPTIONS: dict[str, Any] = {
    "status_code": 202,
    "response_model": OpsgenieAccepted,
    "openapi_extra": IngestBody.openapi_extra(),
}


@router.post("", **_OPTIONS)
async def create_alert(request: Request, session: DbSession, now: Now) -> JSONResponse:
    """Create an alert (``message`` required; ``alias`` is its identity)."""
    integration = await _integration(request, session, now)
    body = await request.body()
    try:
        inbound = FORMAT.to_alerts(FORMAT.parse(body, request.headers), received_at=now)
    except TocsinError as refused:
        await log_rejection(request, integration, body, refused, 400, now)
        raise
    return await _apply(integration, inbound, body, request, session, now)


@router.post("/{identifier}/{action}", **_OPTIONS)
async def alert_action(
    identifier: str,
    action: OpsgenieAction,
    request: Request,
    session: DbSession,
    now: Now,
    identifier_type: Annotated[str | None, Query(alias="identifierType", max_length=20)] = None,
) -> JSONResponse:
    """Acknowledge or close the alert whose alias is ``identifier`` (``identifierType=alias``)."""
    integration = await _integration(request, session, now)
    body = await request.body()
    try:
        parsed = FORMAT.parse_action(
            body,
            request.headers,
            action=action,
            identifier=identifier,
            identifier_type=identifier_type,
        )
    except UnsupportedEvent as ignored:
        await log_rejection(request, integration, body, str(ignored), 202, now)
        return JSONResponse(accepted_body(str(uuid.uuid4())), status_code=202)
    except TocsinError as refused:
        await log_rejection(request, integration, body, refused, 400, now)
        raise
    inbound = FORMAT.to_alerts(parsed, received_at=now)
    return await _apply(integration, inbound, body, request, session, now)


async def _integration(request: Request, session: DbSession, now: Now) -> Integration:
    key = genie_key(request.headers)
    if key is None:
        raise NotAuthenticated("send Authorization: GenieKey <integration key>")
    return await find_integration(session, key, request, now, verifies_signatures=False)


async def _apply(
    integration: Integration,
    inbound: list[InboundAlert],
    body: bytes,
    request: Request,
    session: DbSession,
    now: Now,
) -> JSONResponse:
    request_id = str(uuid.uuid4())
    _, response = await pipeline.receive(
        session,
        integration=integration,
        inbound=inbound,
        body=body,
        idempotency_key=idempotency_key(request.headers),
        ip_address=client_ip(request),
        now=now,
        http_status=202,
        respond=lambda _: accepted_body(request_id),
    )
    return JSONResponse(response, status_code=202)
