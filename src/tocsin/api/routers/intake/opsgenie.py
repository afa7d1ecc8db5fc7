"""The Opsgenie Alert API subset, for teams leaving Opsgenie: create, acknowledge, close, and
the status of each such request.

``Authorization: GenieKey <integration key>``, the key of an Opsgenie integration; alerts
are named by ``alias``. Answers are Opsgenie's: 202 ``{"result": "Request will be
processed", "took", "requestId"}``, and ``GET /v2/alerts/requests/{requestId}`` answers
what became of the request (``api/opsgenie_requests.py``). A missing or unknown key (or the
key of another kind of integration) is a 401, as Opsgenie answers it, so that clients
report an authentication failure; the problem+json body carries Opsgenie's ``message``,
``took`` and ``requestId`` members too.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request, Security
from fastapi.responses import JSONResponse
from fastapi.security import APIKeyHeader

from tocsin.actions.intake import inbound_events
from tocsin.actions.intake.lookups import IntakeIntegration
from tocsin.api.routers.intake import opsgenie_requests
from tocsin.api.routers.intake.steps import (
    apply,
    find_integration,
    in_intake_transaction,
    intake_transaction,
    log_rejection,
    retrying,
)
from tocsin.api.schemas import problems
from tocsin.api.schemas.intake import IngestBody, OpsgenieAccepted, OpsgenieRequestStatus
from tocsin.db.executors import Executor, OnConnection
from tocsin.db.models.integrations import IntegrationKind
from tocsin.domain.alerts import InboundAlert
from tocsin.errors import NotAuthenticated, NotFound, TocsinError
from tocsin.http.deps import Now
from tocsin.ingest.errors import UnsupportedEvent
from tocsin.ingest.formats.opsgenie import Opsgenie, OpsgenieAction, genie_key

GENIE_KEY = APIKeyHeader(
    name="Authorization",
    scheme_name="GenieKey",
    description="`Authorization: GenieKey <key>`, the key of an Opsgenie integration",
    auto_error=False,
)
Authorization = Annotated[str | None, Security(GENIE_KEY)]

router = APIRouter(
    prefix="/v2/alerts", tags=["intake"], responses={**problems.COMMON, **problems.NOT_FOUND}
)

FORMAT = Opsgenie()
KINDS = frozenset({IntegrationKind.OPSGENIE})
_OPTIONS: dict[str, Any] = {
    "status_code": 202,
    "response_model": OpsgenieAccepted,
    "openapi_extra": IngestBody.openapi_extra(),
}


class GenieKeyRefused(NotAuthenticated):
    """Raised when a request bears no GenieKey, or one no enabled Opsgenie integration has.

    Opsgenie answers an unknown key 401 ``{"message": "Could not authenticate", …}``, and
    its SDKs map 401 to an authentication error (a 404 reads as "resource not found").
    """

    challenge = 'GenieKey realm="tocsin"'

    def __init__(self, detail: str, *, request_id: str) -> None:
        super().__init__(detail, message="Could not authenticate", took=0.0, requestId=request_id)


class RequestNotFound(NotFound):
    """Raised when no request of the integration has the id (Opsgenie: a 404 too)."""

    def __init__(self, request_id: str, *, own_id: str) -> None:
        super().__init__("request", request_id)
        self.extensions.update(
            message=opsgenie_requests.NOT_FOUND_MESSAGE, took=0.0, requestId=own_id
        )


@router.post("", **_OPTIONS)
async def create_alert(request: Request, now: Now, authorization: Authorization) -> JSONResponse:
    """Create an alert (``message`` required; ``alias`` is its identity)."""
    body = await request.body()
    request_id = opsgenie_requests.new_request_id(now)
    key = _key(authorization, request_id)
    refused: TocsinError | None = None
    inbound: list[InboundAlert] = []
    try:
        inbound = FORMAT.to_alerts(FORMAT.parse(body, request.headers), received_at=now)
    except TocsinError as error:
        refused = error

    async def work(executor: OnConnection) -> JSONResponse:
        # A bad body is answered only once the key is known good: an unknown key is a 401
        # whatever the body, and a refusal goes to the integration's log.
        integration = await _integration(executor, key, request, now, request_id)
        if refused is not None:
            await log_rejection(request, integration, body, refused, 400, now)
            raise refused
        response = await _apply(request, executor, integration, inbound, body, now, request_id)
        return JSONResponse(response, status_code=202)

    return await in_intake_transaction(request, work, integration_key=key, inbound=inbound)


@router.get(
    "/requests/{request_id}",
    response_model=OpsgenieRequestStatus,
    responses={404: {**problems.NOT_FOUND[404], "description": "No such request of this key"}},
)
async def request_status(
    request_id: Annotated[str, Path(max_length=100)],
    request: Request,
    now: Now,
    authorization: Authorization,
) -> JSONResponse:
    """What became of a create, acknowledge or close request, by the ``requestId`` it was
    answered with (Opsgenie's "Get Request Status"; the SDKs' ``retrieve_result``)."""
    own_id = opsgenie_requests.new_request_id(now)
    key = _key(authorization, own_id)
    async with intake_transaction(request) as executor:
        integration = await _integration(executor, key, request, now, own_id)
        between = opsgenie_requests.logged_around(request_id)
        found = None
        if between is not None:
            found = await inbound_events.answered(
                executor,
                integration_id=integration.id,
                member="requestId",
                value=request_id,
                between=between,
            )
    if found is None:
        raise RequestNotFound(request_id, own_id=own_id)
    received_at, logged = found
    body = opsgenie_requests.status_body(request_id, logged, received_at, integration.id)
    return JSONResponse(body)


@router.post("/{identifier}/{action}", **_OPTIONS)
async def alert_action(
    identifier: str,
    action: OpsgenieAction,
    request: Request,
    now: Now,
    authorization: Authorization,
    identifier_type: Annotated[str | None, Query(alias="identifierType", max_length=20)] = None,
) -> JSONResponse:
    """Acknowledge or close the alert whose alias is ``identifier`` (``identifierType=alias``)."""
    body = await request.body()
    request_id = opsgenie_requests.new_request_id(now)
    key = _key(authorization, request_id)
    return await retrying(
        lambda: _act(identifier, action, identifier_type, key, body, request, now, request_id)
    )


async def _act(
    identifier: str,
    action: OpsgenieAction,
    identifier_type: str | None,
    key: str,
    body: bytes,
    request: Request,
    now: datetime,
    request_id: str,
) -> JSONResponse:
    async with intake_transaction(request) as executor:
        integration = await _integration(executor, key, request, now, request_id)
        try:
            parsed = FORMAT.parse_action(
                body,
                request.headers,
                action=action,
                identifier=identifier,
                identifier_type=identifier_type,
            )
        except UnsupportedEvent as ignored:
            logged = opsgenie_requests.ignored(request_id, action, str(ignored))
            await log_rejection(request, integration, body, str(ignored), 202, now, logged)
            return JSONResponse(opsgenie_requests.answer(logged), status_code=202)
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
            request_id,
            action,
            asked_in_url=f"{action} {identifier}",
        )
    return JSONResponse(response, status_code=202)


def _key(authorization: str | None, request_id: str) -> str:
    key = genie_key({"Authorization": authorization or ""})
    if key is None:
        raise GenieKeyRefused(
            "send Authorization: GenieKey <integration key>", request_id=request_id
        )
    return key


async def _integration(
    executor: Executor, key: str, request: Request, now: datetime, request_id: str
) -> IntakeIntegration:
    try:
        return await find_integration(
            executor, key, request, now, verifies_signatures=False, kinds=KINDS
        )
    except NotFound as unknown:
        raise GenieKeyRefused(
            "Could not authenticate: no enabled Opsgenie integration has this key",
            request_id=request_id,
        ) from unknown


async def _apply(
    request: Request,
    executor: OnConnection,
    integration: IntakeIntegration,
    inbound: list[InboundAlert],
    body: bytes,
    now: datetime,
    request_id: str,
    action: OpsgenieAction | None = None,
    *,
    asked_in_url: str = "",
) -> dict[str, Any]:
    logged = await apply(
        request,
        executor,
        integration=integration,
        inbound=inbound,
        body=body,
        now=now,
        respond=lambda receipt: opsgenie_requests.accepted(request_id, action, receipt),
        asked_in_url=asked_in_url,
    )
    # A replayed answer (an Idempotency-Key seen before) is the logged one: strip it too.
    return opsgenie_requests.answer(logged)
