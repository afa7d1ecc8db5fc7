"""Liveness, readiness and metrics: for load balancers, orchestrators and Prometheus."""

from __future__ import annotations

import asyncio
import hmac
import time
from typing import Annotated

import sqlalchemy as sa
from fastapi import APIRouter, Request, Response, Security
from fastapi.responses import JSONResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.exc import DBAPIError

from tocsin.api.schemas import problems
from tocsin.db import migrate
from tocsin.errors import NotAuthenticated
from tocsin.http.context import context_of

router = APIRouter(tags=["health"])

# Orchestrators and load balancers give a readiness probe a second or two; an answer later
# than that is no answer, and a probe that hangs on an unreachable database (connecting,
# or waiting for a pool slot held by hanging requests) would keep traffic flowing to a
# process that cannot serve it.
READY_WITHIN_SECONDS = 1.0


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    """The process is alive and serving requests. Never touches the database."""
    return {"status": "ok"}


@router.get("/readyz", responses={503: {"description": "Database unreachable or not migrated"}})
async def readyz(request: Request) -> JSONResponse:
    """Ready for traffic: the database answers and its schema is at this release's head."""
    database = context_of(request).database
    started = time.monotonic()
    try:
        async with (
            asyncio.timeout(min(READY_WITHIN_SECONDS, database.wait)),
            database.engine.connect() as connection,
        ):
            await connection.execute(sa.text("SELECT 1"))
            current = await connection.run_sync(migrate.current_revisions)
    except (DBAPIError, OSError, TimeoutError) as error:
        database.availability.failed(error)
        return JSONResponse(
            {"status": "unavailable", "database": "unreachable", "detail": type(error).__name__},
            status_code=503,
            headers={"Retry-After": "5"},
        )
    database.availability.succeeded(started)
    expected = migrate.head_revisions()
    if current != expected:
        return JSONResponse(
            {
                "status": "unavailable",
                "database": "not migrated",
                "current": sorted(current),
                "expected": sorted(expected),
            },
            status_code=503,
            headers={"Retry-After": "5"},
        )
    return JSONResponse({"status": "ok", "database": "ok", "revision": sorted(current)})


METRICS_TOKEN = HTTPBearer(
    scheme_name="metricsToken",
    description="Only when `TOCSIN_METRICS_TOKEN` is set: `Authorization: Bearer <that token>`",
    auto_error=False,
)


@router.get(
    "/metrics",
    response_class=Response,
    responses={401: problems.COMMON[401]},
    # The token is asked for only when one is configured: no credentials is an option too.
    openapi_extra={"security": [{}]},
)
async def metrics(
    request: Request,
    presented: Annotated[HTTPAuthorizationCredentials | None, Security(METRICS_TOKEN)],
) -> Response:
    """Prometheus metrics of this process (open unless ``TOCSIN_METRICS_TOKEN`` is set)."""
    context = context_of(request)
    expected = context.settings.metrics_token
    if expected is not None and not (
        presented is not None
        and hmac.compare_digest(
            presented.credentials.encode(), expected.get_secret_value().encode()
        )
    ):
        raise NotAuthenticated("send Authorization: Bearer <TOCSIN_METRICS_TOKEN>")
    rendered = context.metrics.render()
    return Response(rendered, media_type="text/plain; version=0.0.4; charset=utf-8")
