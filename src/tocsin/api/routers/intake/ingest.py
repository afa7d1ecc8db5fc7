"""``POST /ingest/{integration_key}``: the URL every integration has.

The integration's kind picks the format (Alertmanager, Grafana, Datadog, New Relic,
generic JSON, and PagerDuty or Opsgenie bodies too). A heartbeat integration takes any
request to this URL (GET or POST, any body) as a ping. Tools that cannot put a secret in
the URL may send it in the ``X-Tocsin-Integration-Key`` header to ``POST /ingest``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Header, Request
from fastapi.responses import JSONResponse

from tocsin.actions.intake import heartbeats, pipeline
from tocsin.actions.intake.lookups import IntakeIntegration
from tocsin.api.routers.intake.steps import (
    apply,
    find_integration,
    intake_transaction,
    log_rejection,
    retrying,
)
from tocsin.api.schemas import problems
from tocsin.api.schemas.intake import IngestAccepted, IngestBody
from tocsin.db.models.integrations import IntegrationKind
from tocsin.errors import NotAuthenticated, TocsinError
from tocsin.http.context import context_of
from tocsin.http.deps import Now, client_ip
from tocsin.ingest.errors import MalformedPayload, UnsupportedEvent
from tocsin.ingest.formats import FORMATS, signed

router = APIRouter(tags=["intake"], responses={**problems.COMMON, **problems.NOT_FOUND})

_INGEST: dict[str, Any] = {
    "status_code": 202,
    "response_model": IngestAccepted,
    "openapi_extra": IngestBody.openapi_extra(),
}


@router.post("/ingest/{integration_key}", **_INGEST)
async def ingest(integration_key: str, request: Request, now: Now) -> JSONResponse:
    """Send alerts in the integration's format; the answer says what became of each."""
    return await _ingest(integration_key, request, now)


@router.post("/ingest", **_INGEST)
async def ingest_with_header(
    request: Request,
    now: Now,
    x_tocsin_integration_key: Annotated[str, Header(max_length=200)],
) -> JSONResponse:
    """As ``/ingest/{integration_key}``, with the key in a header (for tools that sign
    nothing but can send a static header, and for keeping keys out of access logs)."""
    return await _ingest(x_tocsin_integration_key, request, now)


@router.get("/ingest/{integration_key}", status_code=202, response_model=IngestAccepted)
async def heartbeat_ping(integration_key: str, request: Request, now: Now) -> JSONResponse:
    """A heartbeat ping (monitors that can only fetch a URL). Other kinds refuse GET."""
    async with intake_transaction(request) as executor:
        integration = await find_integration(
            executor, integration_key, request, now, verifies_signatures=True
        )
    if integration.kind is not IntegrationKind.HEARTBEAT:
        raise MalformedPayload("method", "only heartbeat integrations accept GET; POST alerts")
    return await _ping(integration, request, now)


async def _ingest(key: str, request: Request, now: datetime) -> JSONResponse:
    body = await request.body()
    return await retrying(lambda: _ingest_once(key, body, request, now))


async def _ingest_once(key: str, body: bytes, request: Request, now: datetime) -> JSONResponse:
    async with intake_transaction(request) as executor:
        integration = await find_integration(executor, key, request, now, verifies_signatures=True)
        if integration.kind is IntegrationKind.HEARTBEAT:
            return await _ping(integration, request, now)
        format_ = FORMATS[integration.kind.value]
        try:
            replay_id = None
            verifier = signed(format_)
            if integration.signing_secret_encrypted is not None:
                if verifier is None:
                    raise NotAuthenticated("this integration's kind cannot verify signatures")
                secret = context_of(request).cipher.decrypt(integration.signing_secret_encrypted)
                replay_id = verifier.verify(request.headers, body, secret, now)
            payload = format_.parse(body, request.headers)
            inbound = format_.to_alerts(payload, received_at=now)
        except UnsupportedEvent as ignored:
            return JSONResponse(
                {"status": "ignored", "reason": str(ignored), "results": []}, status_code=202
            )
        except TocsinError as refused:
            status = 401 if isinstance(refused, NotAuthenticated) else 400
            await log_rejection(request, integration, body, refused, status, now)
            raise
        response = await apply(
            request,
            executor,
            integration=integration,
            inbound=inbound,
            body=body,
            now=now,
            respond=pipeline.accepted,
            replay_id=replay_id,
        )
    return JSONResponse(response, status_code=202)


async def _ping(integration: IntakeIntegration, request: Request, now: datetime) -> JSONResponse:
    async with context_of(request).database.transaction() as session:
        applied = await heartbeats.ping(
            session, integration=integration, now=now, ip_address=client_ip(request)
        )
    results = pipeline.accepted(pipeline.Receipt((applied,) if applied else ()))
    return JSONResponse({**results, "status": "ping received"}, status_code=202)
