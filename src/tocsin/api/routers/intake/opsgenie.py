"""The Opsgenie Alert API subset, for teams leaving Opsgenie: create, acknowledge, close.

``Authorization: GenieKey <integration key>``; alerts are named by ``alias``. Answers are
Opsgenie's: 202 ``{"result": "Request will be processed", "took", "requestId"}``.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse

from tocsin.actions.intake.lookups import IntakeIntegration
from tocsin.api.routers.intake.steps import (
    apply,
    find_integration,
    in_intake_transaction,
    intake_transaction,
    log_rejection,
    retrying,
)
from tocsin.api.schemas import problems
from tocsin.api.schemas.intake import IngestBody, OpsgenieAccepted
from tocsin.db.executors import Executor, OnConnection
from tocsin.domain.alerts import InboundAlert
from tocsin.errors import NotAuthenticated, TocsinError
from tocsin.http.deps import Now
from tocsin.ingest.errors import UnsupportedEvent
from tocsin.ingest.formats.opsgenie import Opsgenie, OpsgenieAction, accepted_body, genie_key

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
async def create_alert(request: Request, now: Now) -> JSONResponse:
    """Create an alert (``message`` required; ``alias`` is its identity)."""
    body = await request.body()
    key = _key(request)
    refused: TocsinError | None = None
    inbound: list[InboundAlert] = []
    try:
        inbound = FORMAT.to_alerts(FORMAT.parse(body, request.headers), received_at=now)
    except TocsinError as error:
        refused = error

    async def work(executor: OnConnection) -> JSONResponse:
        # A bad body is answered only once the key is known good: an unknown key is a 404
        # whatever the body, and a refusal goes to the integration's log.
        integration = await find_integration(executor, key, request, now, verifies_signatures=False)
        if refused is not None:
            await log_rejection(request, integration, body, refused, 400, now)
            raise refused
        response = await _apply(request, executor, integration, inbound, body, now)
        return JSONResponse(response, status_code=202)

    return await in_intake_transaction(request, work, integration_key=key, inbound=inbound)


@router.post("/{identifier}/{action}", **_OPTIONS)
async def alert_action(
    identifier: str,
    action: OpsgenieAction,
    request: Request,
    now: Now,
    identifier_type: Annotated[str | None, Query(alias="identifierType", max_length=20)] = None,
) -> JSONResponse:
    """Acknowledge or close the alert whose alias is ``identifier`` (``identifierType=alias``)."""
    body = await request.body()
    return await retrying(lambda: _act(identifier, action, identifier_type, body, request, now))


async def _act(
    identifier: str,
    action: OpsgenieAction,
    identifier_type: str | None,
    body: bytes,
    request: Request,
    now: datetime,
) -> JSONResponse:
    async with intake_transaction(request) as executor:
        integration = await _integration(executor, request, now)
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
        response = await _apply(
            request,
            executor,
            integration,
            inbound,
            body,
            now,
            asked_in_url=f"{action} {identifier}",
        )
    return JSONResponse(response, status_code=202)


def _key(request: Request) -> str:
    key = genie_key(request.headers)
    if key is None:
        raise NotAuthenticated("send Authorization: GenieKey <integration key>")
    return key


async def _integration(executor: Executor, request: Request, now: datetime) -> IntakeIntegration:
    return await find_integration(executor, _key(request), request, now, verifies_signatures=False)


async def _apply(
    request: Request,
    executor: OnConnection,
    integration: IntakeIntegration,
    inbound: list[InboundAlert],
    body: bytes,
    now: datetime,
    *,
    asked_in_url: str = "",
) -> dict[str, Any]:
    request_id = str(uuid.uuid4())
    return await apply(
        request,
        executor,
        integration=integration,
        inbound=inbound,
        body=body,
        now=now,
        respond=lambda _: accepted_body(request_id),
        asked_in_url=asked_in_url,
    )
