"""The log of what each integration received, and the idempotency it provides.

An event with an idempotency key (``Idempotency-Key`` header, or a verified Standard
Webhooks ``webhook-id``) that was already *applied* is answered with the stored response and
changes nothing. The key is recorded in the same transaction as the change it caused, so
a request that failed (rolled back) left no key behind, and its retry is processed as new.
Rejected requests are logged too, in a transaction of their own, for the integration's log.
"""

from __future__ import annotations

import json
import uuid
from datetime import datetime
from typing import Any, LiteralString

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from tocsin.db import driver
from tocsin.db.models.integrations import EventOutcome, InboundEvent, Integration

_INSERT: LiteralString = """
    INSERT INTO inbound_event (
        integration_id, received_at, idempotency_key, outcome, http_status, detail, response, body
    )
    VALUES (
        %(integration_id)s, %(received_at)s, %(idempotency_key)s, %(outcome)s, %(http_status)s,
        %(detail)s, CAST(%(response)s AS jsonb), %(body)s
    )
"""

# Bodies are kept for the integration's log; beyond this only the beginning is.
BODY_KEPT = 64 * 1024
# last_event_at is written at most this often, so that a busy integration's requests do
# not queue behind each other on its row lock.
LAST_EVENT_RESOLUTION_SECONDS = 60


async def applied_response(
    session: AsyncSession, *, integration_id: uuid.UUID, idempotency_key: str
) -> dict[str, Any] | None:
    """The response given when this key was applied, or ``None`` if it never was.

    Retries of one event can arrive together (a sender that timed out while the first
    attempt was still running). The key is locked until this transaction ends, so a
    second attempt waits here for the first to commit, then reads its answer instead of
    applying the event again and failing on the unique key with a 500.
    """
    await session.execute(
        sa.select(
            sa.func.pg_advisory_xact_lock(
                sa.func.hashtextextended(f"idempotency:{integration_id}:{idempotency_key}", 0)
            )
        )
    )
    response: dict[str, Any] | None = await session.scalar(
        sa.select(InboundEvent.response).where(
            InboundEvent.integration_id == integration_id,
            InboundEvent.idempotency_key == idempotency_key,
            InboundEvent.outcome == EventOutcome.APPLIED,
        )
    )
    return response


async def record(
    session: AsyncSession,
    *,
    integration: Integration,
    outcome: EventOutcome,
    http_status: int,
    body: bytes,
    now: datetime,
    idempotency_key: str | None = None,
    detail: str = "",
    response: dict[str, Any] | None = None,
) -> None:
    # One constant INSERT on the raw connection: this runs for every request intake
    # answers (see db/driver.py).
    await driver.execute(
        session,
        _INSERT,
        {
            "integration_id": integration.id,
            "received_at": now,
            "idempotency_key": idempotency_key,
            "outcome": outcome.value,
            "http_status": http_status,
            "detail": detail[:2000],
            "response": json.dumps(response or {}),
            "body": body[:BODY_KEPT].decode("utf-8", errors="replace").replace("\x00", ""),
        },
    )
    seen = integration.last_event_at
    if seen is not None and (now - seen).total_seconds() < LAST_EVENT_RESOLUTION_SECONDS:
        return
    await session.execute(
        sa.update(Integration)
        .where(
            Integration.id == integration.id,
            sa.or_(
                Integration.last_event_at.is_(None),
                Integration.last_event_at
                < now - sa.func.make_interval(0, 0, 0, 0, 0, 0, LAST_EVENT_RESOLUTION_SECONDS),
            ),
        )
        .values(last_event_at=now)
    )
