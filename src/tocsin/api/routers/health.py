"""Liveness, readiness and metrics: for load balancers, orchestrators and Prometheus."""

from __future__ import annotations

import sqlalchemy as sa
from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DBAPIError

from tocsin.api.context import context_of
from tocsin.db import migrate

router = APIRouter(tags=["health"])


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    """The process is alive and serving requests. Never touches the database."""
    return {"status": "ok"}


@router.get("/readyz", responses={503: {"description": "Database unreachable or not migrated"}})
async def readyz(request: Request) -> JSONResponse:
    """Ready for traffic: the database answers and its schema is at this release's head."""
    database = context_of(request).database
    try:
        async with database.engine.connect() as connection:
            await connection.execute(sa.text("SELECT 1"))
            current = await connection.run_sync(migrate.current_revisions)
    except (DBAPIError, OSError) as error:
        return JSONResponse(
            {"status": "unavailable", "database": "unreachable", "detail": type(error).__name__},
            status_code=503,
            headers={"Retry-After": "5"},
        )
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


@router.get("/metrics", response_class=Response)
async def metrics(request: Request) -> Response:
    rendered = context_of(request).metrics.render()
    return Response(rendered, media_type="text/plain; version=0.0.4; charset=utf-8")
