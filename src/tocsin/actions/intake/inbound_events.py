"""The log of what each integration received, and the idempotency it provides.

An event with an idempotency key (``Idempotency-Key`` header, or a verified Standard
Webhooks ``webhook-id``) that was already *applied* is answered with the stored response and
changes nothing, if it is a retry: the same request again, told by the SHA-256 of what it
asked (``Idempotency.digest``). The same key with a different request is another event
that reuses the key; answering it with the first result would drop it without a word, so
it is refused (``IdempotencyKeyReused``). The key is recorded in the same transaction as
the change it caused, so a request that failed (rolled back) left no key behind, and its
retry is processed as new. Rejected requests are logged too, in a transaction of their
own, for the integration's log.

Constant SQL through an ``Executor``: intake writes one row per request, on its hot path.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from tocsin.actions.intake.lookups import IntakeIntegration
from tocsin.db.executors import Executor
from tocsin.db.models.integrations import EventOutcome
from tocsin.ingest.errors import IdempotencyKeyReused

_INSERT = """
    INSERT INTO inbound_event (
        integration_id, received_at, idempotency_key, request_sha256, outcome, http_status,
        detail, response, body
    )
    VALUES (
        %(integration_id)s, %(received_at)s, %(idempotency_key)s, %(request_sha256)s,
        %(outcome)s, %(http_status)s, %(detail)s, CAST(%(response)s AS jsonb), %(body)s
    )
"""

# Retries of one event can arrive together (a sender that timed out while the first
# attempt was still running). The key is locked until the transaction ends, so a second
# attempt waits for the first to commit, then reads its answer instead of applying the
# event again and failing on the unique key. Two statements, not one: a statement reads
# from the snapshot taken when it starts, so the read must start after the wait.
_LOCK = "SELECT pg_advisory_xact_lock(hashtextextended(%(lock)s, 0))"
_APPLIED = """
    SELECT response, request_sha256 FROM inbound_event
    WHERE integration_id = %(integration_id)s
      AND idempotency_key = %(idempotency_key)s
      AND outcome = 'applied'
"""

# Reads a moment of one integration's log through ix_inbound_event_integration_time.
_ANSWERED = """
    SELECT received_at, response FROM inbound_event
    WHERE integration_id = %(integration_id)s
      AND received_at >= %(start)s AND received_at < %(end)s
      AND response ->> %(member)s = %(value)s
    ORDER BY received_at
    LIMIT 1
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


@dataclass(frozen=True)
class Idempotency:
    """The key a sender gave an event, the header it came in, and what the request asked."""

    key: str
    field: str
    digest: bytes

    @classmethod
    def of(cls, key: str, field: str, body: bytes, asked_in_url: str = "") -> Idempotency:
        """``asked_in_url`` is what the URL adds to the body (Opsgenie names the alert to
        close there): two requests alike in body but not in that are not a retry."""
        digest = hashlib.sha256(asked_in_url.encode() + b"\n" + body).digest()
        return cls(key=key, field=field, digest=digest)


async def replayed_response(
    executor: Executor, *, integration_id: uuid.UUID, idempotency: Idempotency
) -> dict[str, Any] | None:
    """The response given when this key was applied, if this request is a retry of that
    one; ``None`` if the key was never applied. ``IdempotencyKeyReused`` if it was, for
    another request."""
    key = idempotency.key
    await executor.rows(_LOCK, {"lock": f"idempotency:{integration_id}:{key}"})
    rows = await executor.rows(_APPLIED, {"integration_id": integration_id, "idempotency_key": key})
    if not rows:
        return None
    response: dict[str, Any]
    response, digest = rows[0]
    # No digest: applied before digests were kept (migration 0006); it cannot be told
    # apart, and is answered as a retry, as it was then.
    if digest is not None and bytes(digest) != idempotency.digest:
        raise IdempotencyKeyReused(idempotency.field, key)
    return response


async def answered(
    executor: Executor,
    *,
    integration_id: uuid.UUID,
    member: str,
    value: str,
    between: tuple[datetime, datetime],
) -> tuple[datetime, dict[str, Any]] | None:
    """The event logged for this integration ``between`` two instants whose stored answer
    has ``member`` equal to ``value`` (Opsgenie's ``requestId``): when it was received and
    the answer; ``None`` when there is none."""
    start, end = between
    rows = await executor.rows(
        _ANSWERED,
        {
            "integration_id": integration_id,
            "start": start,
            "end": end,
            "member": member,
            "value": value,
        },
    )
    if not rows:
        return None
    received_at, response = rows[0]
    return received_at, response


async def record(
    executor: Executor,
    *,
    integration: IntakeIntegration,
    outcome: EventOutcome,
    http_status: int,
    body: bytes,
    now: datetime,
    idempotency: Idempotency | None = None,
    detail: str = "",
    response: dict[str, Any] | None = None,
) -> None:
    await executor.rows(
        _INSERT,
        {
            "integration_id": integration.id,
            "received_at": now,
            "idempotency_key": idempotency.key if idempotency else None,
            "request_sha256": idempotency.digest if idempotency else None,
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
