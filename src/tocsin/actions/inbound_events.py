"""The log of what each integration received, and the idempotency it provides.

An event with an idempotency key (``Idempotency-Key`` header, or a verified Standard
Webhooks ``webhook-id``) that was already *applied* is answered with the stored response and
changes nothing. The key is recorded in the same transaction as the change it caused, so
a request that failed (rolled back) left no key behind, and its retry is processed as new.
Rejected requests are logged too, in a transaction of their own, for the integration's log.

Constant SQL through an ``Executor``: intake writes one row per request, on its hot path.
"""

from __future__ import annotations

import json
import uuid
from datetime import datetime
from typing import Any

from tocsin.actions.intake_lookups import IntakeIntegration
from tocsin.db.executors import Executor
from tocsin.db.models.integrations import EventOutcome

_INSERT = """
    INSERT INTO inbound_event (
        integration_id, received_at, idempotency_key, outcome, http_status, detail, response, body
    )
    VALUES (
        %(integration_id)s, %(received_at)s, %(idempotency_key)s, %(outcome)s, %(http_status)s,
        %(detail)s, CAST(%(response)s AS jsonb), %(body)s
    )
"""

# Retries of one event can arrive together (a sender that timed out while the first
# attempt was still running). The key is locked until the transaction ends, so a second
# attempt waits for the first to commit, then reads its answer instead of applying the
# event again and failing on the unique key. Two statements, not one: a statement reads
# from the snapshot taken when it starts, so the read must start after the wait.
_LOCK = "SELECT pg_advisory_xact_lock(hashtextextended(%(lock)s, 0))"
_APPLIED = """
    SELECT response FROM inbound_event
    WHERE integration_id = %(integration_id)s
      AND idempotency_key = %(idempotency_key)s
      AND outcome = 'applied'
"""

_TOUCH = """
    UPDATE integration SET last_event_at = %(now)s
    WHERE id = %(integration_id)s
      AND (last_event_at IS NULL OR last_event_at < %(now)s - %(resolution)s * interval '1 second')
"""

# Bodies are kept for the integration's log; beyond this only the beginning is.
BODY_KEPT = 64 * 1024
# last_event_at is written at most this often, so that a busy integration's requests do
# not queue behind each other on its row lock.
LAST_EVENT_RESOLUTION_SECONDS = 60


async def applied_response(
    executor: Executor, *, integration_id: uuid.UUID, idempotency_key: str
) -> dict[str, Any] | None:
    """The response given when this key was applied, or ``None`` if it never was."""
    await executor.rows(_LOCK, {"lock": f"idempotency:{integration_id}:{idempotency_key}"})
    rows = await executor.rows(
        _APPLIED, {"integration_id": integration_id, "idempotency_key": idempotency_key}
    )
    if not rows:
        return None
    response: dict[str, Any] = rows[0][0]
    return response


async def record(
    executor: Executor,
    *,
    integration: IntakeIntegration,
    outcome: EventOutcome,
    http_status: int,
    body: bytes,
    now: datetime,
    idempotency_key: str | None = None,
    detail: str = "",
    response: dict[str, Any] | None = None,
) -> None:
    await executor.rows(
        _INSERT,
        {
            "integration_id": integration.id,
            "received_at": now,
            "idempotency_key": idempotency_key,
            "outcome": outcome.value,
            "http_status": http_status,
            "detail": detail[:2000],
            "response": json.dumps(response or {}),
            # The executor replaces what PostgreSQL cannot store (NUL) in the text.
            "body": body[:BODY_KEPT].decode("utf-8", errors="replace"),
        },
    )
    seen = integration.last_event_at
    if seen is not None and (now - seen).total_seconds() < LAST_EVENT_RESOLUTION_SECONDS:
        return
    await executor.rows(
        _TOUCH,
        {
            "now": now,
            "integration_id": integration.id,
            "resolution": LAST_EVENT_RESOLUTION_SECONDS,
        },
    )
