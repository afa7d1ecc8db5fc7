"""What the intake routes share: finding the integration, rate limits, rejected-event logs.

Every intake route reads the raw body itself (signatures are computed over the exact
bytes, and each source has its own error shape), finds the integration by its key, checks
the per-integration rate limit, then hands over to ``ingest.pipeline``.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

import structlog
from fastapi import Request
from sqlalchemy.ext.asyncio import AsyncSession

from tocsin.actions import inbound_events
from tocsin.actions.integrations import integration_for_key
from tocsin.api.context import context_of
from tocsin.db.models.integrations import EventOutcome, Integration
from tocsin.errors import NotAuthenticated, NotFound, TocsinError

log = structlog.get_logger(__name__)

IDEMPOTENCY_HEADERS = ("idempotency-key", "x-idempotency-key")


async def find_integration(
    session: AsyncSession,
    key: str,
    request: Request,
    now: datetime,
    *,
    verifies_signatures: bool,
) -> Integration:
    """The enabled integration ``key`` names, within its rate limit.

    A route that cannot verify signatures (PagerDuty's and Opsgenie's APIs: those sources
    never sign) refuses an integration that has a signing secret: otherwise its key alone,
    posted to such a route, would bypass the signature the integration requires.
    """
    integration = await integration_for_key(session, key.strip()) if key.strip() else None
    if integration is None:
        raise NotFound("integration", "for this key")
    if integration.signing_secret_encrypted is not None and not verifies_signatures:
        raise NotAuthenticated(
            "this integration accepts signed requests only, at /ingest/{integration key}"
        )
    context_of(request).intake_limiter.check(integration.id, now)
    return integration


def idempotency_key(headers: Mapping[str, str]) -> str | None:
    for name in IDEMPOTENCY_HEADERS:
        value = headers.get(name)
        if value and value.strip():
            return value.strip()[:255]
    return None


async def log_rejection(
    request: Request,
    integration: Integration,
    body: bytes,
    error: TocsinError | str,
    status: int,
    now: datetime,
) -> None:
    """Record a refused request in the integration's log, in a transaction of its own (the
    request's transaction rolls back). Never lets logging failure change the answer."""
    detail = error if isinstance(error, str) else error.detail
    try:
        async with context_of(request).database.transaction() as session:
            await inbound_events.record(
                session,
                integration=integration,
                outcome=EventOutcome.REJECTED,
                http_status=status,
                body=body,
                now=now,
                detail=detail,
            )
    except Exception as failure:
        log.warning("could not log a rejected event", error=repr(failure))
