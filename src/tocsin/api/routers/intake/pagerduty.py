"""PagerDuty Events API v2, wire-compatible: ``POST /v2/enqueue`` and ``/v2/change/enqueue``.

Tools that page PagerDuty move to tocsin by changing the URL: the integration key goes in
``routing_key``, and the answers are PagerDuty's own: 202 ``{"status": "success", …,
"dedup_key"}`` (the key tocsin used, generated when the trigger had none), 400
``{"status": "invalid event", "message": "Event object is invalid", "errors": […]}`` (also
for an unknown routing key, as PagerDuty answers), 429 ``{"status": "throttle event"}``.
An ``Idempotency-Key`` (tocsin's addition) reused for another event is answered 422 in the
same invalid-event body.
A change event is recorded on the service and pages nobody.

Only the keys of PagerDuty integrations are routing keys: another kind's key (an
Alertmanager's, a heartbeat's, a generic webhook's) is answered as an unknown one, as its
integration takes events in its own format at ``/ingest/{key}``.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from tocsin.actions.intake import change_events, pipeline
from tocsin.actions.intake.lookups import IntakeIntegration
from tocsin.api.routers.intake.steps import (
    apply,
    find_integration,
    in_intake_transaction,
    intake_transaction,
)
from tocsin.api.schemas.intake import IngestBody, PagerDutyAccepted, PagerDutyError
from tocsin.db.executors import Executor, OnConnection
from tocsin.db.models.integrations import IntegrationKind
from tocsin.errors import NotFound, RateLimited
from tocsin.http.context import context_of
from tocsin.http.deps import Now
from tocsin.ingest.errors import IdempotencyKeyReused, MalformedPayload
from tocsin.ingest.formats.pagerduty_events_v2 import (
    INVALID_ROUTING_KEY,
    PagerDutyEventsV2,
    accepted_body,
    invalid_event_body,
)

router = APIRouter(tags=["intake"])
KINDS = frozenset({IntegrationKind.PAGERDUTY_EVENTS_V2})

FORMAT = PagerDutyEventsV2()
THROTTLED = {
    "status": "throttle event",
    "message": "Requests for this service are arriving too quickly. Please retry later.",
}
_RESPONSES: dict[int | str, dict[str, Any]] = {
    400: {"model": PagerDutyError, "description": "Invalid event (PagerDuty's body)"},
    413: {"description": "Body over 512 KB"},
    429: {"model": PagerDutyError, "description": "Throttled; retry later"},
    503: {"description": "Database unavailable; retry"},
}


@router.post(
    "/v2/enqueue",
    status_code=202,
    response_model=PagerDutyAccepted,
    responses={
        **_RESPONSES,
        422: {
            "model": PagerDutyError,
            "description": "Idempotency-Key already used for another event (PagerDuty's body)",
        },
    },
    openapi_extra=IngestBody.openapi_extra(),
)
async def enqueue(request: Request, now: Now) -> JSONResponse:
    """Trigger, acknowledge or resolve an alert, exactly as PagerDuty's Events API v2.

    The credential is the body's ``routing_key``: the key of a PagerDuty integration."""
    body = await request.body()
    try:
        event = FORMAT.parse(body, request.headers)
    except MalformedPayload as error:
        return _invalid([item.message for item in error.errors])
    inbound = FORMAT.to_alerts(event, received_at=now)
    routing_key = event.event.routing_key

    async def work(executor: OnConnection) -> JSONResponse:
        integration = await _integration(executor, routing_key, request, now)
        if isinstance(integration, JSONResponse):
            return integration
        response = await apply(
            request,
            executor,
            integration=integration,
            inbound=inbound,
            body=body,
            now=now,
            respond=_accepted,
        )
        return JSONResponse(response, status_code=202)

    try:
        return await in_intake_transaction(
            request, work, integration_key=routing_key, inbound=inbound
        )
    except IdempotencyKeyReused as reused:
        return JSONResponse(invalid_event_body([reused.detail]), status_code=422)


@router.post(
    "/v2/change/enqueue",
    status_code=202,
    response_model=PagerDutyAccepted,
    responses=_RESPONSES,
    openapi_extra=IngestBody.openapi_extra(),
)
async def change_enqueue(request: Request, now: Now) -> JSONResponse:
    """Record a change event (a deploy, a config push) on the integration's service."""
    body = await request.body()
    try:
        change = FORMAT.parse_change(body, request.headers)
    except MalformedPayload as error:
        return _invalid([item.message for item in error.errors])
    async with intake_transaction(request) as executor:
        integration = await _integration(executor, change.routing_key, request, now)
    if isinstance(integration, JSONResponse):
        return integration
    async with context_of(request).database.transaction() as session:
        await change_events.record(
            session,
            integration=integration,
            change=FORMAT.to_change_event(change, received_at=now),
            body=body,
            now=now,
        )
    return JSONResponse({"status": "success", "message": "Change event processed"}, status_code=202)


async def _integration(
    executor: Executor, routing_key: str, request: Request, now: Now
) -> IntakeIntegration | JSONResponse:
    try:
        return await find_integration(
            executor, routing_key, request, now, verifies_signatures=False, kinds=KINDS
        )
    except NotFound:
        return _invalid([INVALID_ROUTING_KEY])
    except RateLimited as limited:
        return JSONResponse(
            THROTTLED, status_code=429, headers={"Retry-After": str(limited.retry_after)}
        )


def _invalid(messages: list[str]) -> JSONResponse:
    return JSONResponse(invalid_event_body(messages), status_code=400)


def _accepted(receipt: pipeline.Receipt) -> dict[str, Any]:
    keys = [result.dedup_key for result in receipt.results]
    return accepted_body(keys[0] if keys else None)
