"""What the intake routes share: the transaction, the integration, rate limits, the log of
refused requests.

Every intake route reads the raw body itself (signatures are computed over the exact
bytes, and each source has its own error shape), finds the integration by its key inside
``intake_transaction``, checks the per-integration rate limit, and hands over to
``ingest.pipeline`` through ``apply``, which commits before the route answers.

The transaction is a raw psycopg one (``Database.raw_transaction``): intake is the hot path
and this is a quarter of the CPU of a SQLAlchemy session. A request that acknowledges or
resolves alerts needs the ORM's incident actions; ``apply`` runs those in a session.

The routes whose requests carry one event each (PagerDuty's Events API, Opsgenie's create)
run through ``in_intake_transaction``: a request made only of triggers shares its
transaction with the others arriving at the same moment (``db/group_commit.py``), which
is what lets a 2-core machine take a thousand events a second. ``/ingest/{key}`` keeps one
transaction per request: its bodies usually carry many alerts already, and its format is
only known once the integration has been read.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Collection, Mapping, Sequence
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Any, TypeVar

import psycopg
import structlog
from fastapi import Request
from sqlalchemy.exc import DBAPIError

from tocsin.actions.intake import inbound_events, lookups, pipeline
from tocsin.actions.intake.inbound_events import Idempotency
from tocsin.actions.intake.lookups import IntakeIntegration
from tocsin.db.executors import Executor, OnConnection, OnSession
from tocsin.db.models.integrations import EventOutcome, IntegrationKind
from tocsin.domain.alerts import InboundAlert
from tocsin.errors import NotAuthenticated, NotFound, TocsinError
from tocsin.http.context import context_of
from tocsin.http.deps import client_ip
from tocsin.ingest import headers as header
from tocsin.ingest.errors import IdempotencyKeyReused

log = structlog.get_logger(__name__)

IDEMPOTENCY_HEADERS = ("Idempotency-Key", "X-Idempotency-Key")
# The key column's width; longer keys are cut (as long as they differ within it, they are
# told apart).
IDEMPOTENCY_KEY_MAX = 255


# A deadlock or serialization failure aborts the transaction before anything commits, so
# the request can simply run again; the sender would retry anyway, after a 503 and a delay.
RETRYABLE = (psycopg.errors.DeadlockDetected, psycopg.errors.SerializationFailure)
ATTEMPTS = 3

T = TypeVar("T")


async def retrying(work: Callable[[], Awaitable[T]]) -> T:
    """Run ``work`` (one whole transaction) again if PostgreSQL aborted it as a deadlock
    or a serialization failure, up to ``ATTEMPTS`` times."""
    for attempt in range(1, ATTEMPTS + 1):
        try:
            return await work()
        except (*RETRYABLE, DBAPIError) as error:
            cause = error.orig if isinstance(error, DBAPIError) else error
            if not isinstance(cause, RETRYABLE) or attempt == ATTEMPTS:
                raise
            log.info("intake transaction retried", reason=type(cause).__name__, attempt=attempt)
    raise AssertionError("unreachable")


async def in_intake_transaction(
    request: Request,
    work: Callable[[OnConnection], Awaitable[T]],
    *,
    integration_key: str,
    inbound: Sequence[InboundAlert],
) -> T:
    """Run ``work`` (find the integration, ``apply``) in an intake transaction, retried on
    a deadlock; its result once committed. Shared with concurrent requests when
    ``inbound`` is only triggers, ordered by integration key and dedup key so that
    batches lock alerts in one order."""
    if pipeline.needs_session(inbound):

        async def alone() -> T:
            async with intake_transaction(request) as executor:
                return await work(executor)

        return await retrying(alone)
    commits = context_of(request).intake_commits
    order = (integration_key, *(alert.dedup_key for alert in inbound))
    return await retrying(lambda: commits.run(work, order=order))


@asynccontextmanager
async def intake_transaction(request: Request) -> AsyncIterator[OnConnection]:
    """The request's transaction; it commits when the block ends, before the answer."""
    async with context_of(request).database.raw_transaction() as connection:
        yield OnConnection(connection)


async def find_integration(
    executor: Executor,
    key: str,
    request: Request,
    now: datetime,
    *,
    verifies_signatures: bool,
    kinds: Collection[IntegrationKind] | None = None,
) -> IntakeIntegration:
    """The enabled integration ``key`` names, within its rate limit.

    ``kinds`` are the kinds a route speaks the protocol of (PagerDuty's Events API takes
    only PagerDuty integrations' keys, Opsgenie's API only Opsgenie's): the key of another
    kind is answered as an unknown key. An integration's kind says which format its events
    come in and what its grouping fields and routing rules read; a heartbeat's key must not
    open alerts at all. ``None`` (``/ingest``) takes every kind, in the kind's own format.

    A route that cannot verify signatures (PagerDuty's and Opsgenie's APIs: those sources
    never sign) refuses an integration that has a signing secret: otherwise its key alone,
    posted to such a route, would bypass the signature the integration requires.
    """
    key = key.strip()
    integration = await lookups.integration_for_key(executor, key) if key else None
    if integration is None or (kinds is not None and integration.kind not in kinds):
        raise NotFound("integration", "for this key")
    if integration.signing_secret_encrypted is not None and not verifies_signatures:
        raise NotAuthenticated(
            "this integration accepts signed requests only, at /ingest/{integration key}"
        )
    await context_of(request).intake_limiter.check(integration.id, now)
    return integration


async def apply(
    request: Request,
    executor: OnConnection,
    *,
    integration: IntakeIntegration,
    inbound: Sequence[InboundAlert],
    body: bytes,
    now: datetime,
    respond: Callable[[pipeline.Receipt], dict[str, Any]],
    replay_id: str | None = None,
    asked_in_url: str = "",
) -> dict[str, Any]:
    """Apply ``inbound`` and return the response body; committed once the caller's
    ``intake_transaction`` block ends. ``asked_in_url`` is what the URL asks beyond the
    body (the alert an Opsgenie close names): a retry must ask it again too.

    An idempotency key reused for another request is logged as refused and raised."""
    options: dict[str, Any] = {
        "integration": integration,
        "inbound": inbound,
        "body": body,
        "idempotency": idempotency_of(request.headers, body, replay_id, asked_in_url),
        "ip_address": client_ip(request),
        "now": now,
        "http_status": 202,
        "respond": respond,
    }
    try:
        if pipeline.needs_session(inbound):
            # Acknowledging or resolving goes through the ORM incident actions. The raw
            # transaction has only read the integration so far; it stays open, unused.
            async with context_of(request).database.transaction() as session:
                _, response = await pipeline.receive(OnSession(session), session=session, **options)
                return response
        _, response = await pipeline.receive(executor, session=None, **options)
        return response
    except IdempotencyKeyReused as reused:
        await log_rejection(request, integration, body, reused, 422, now)
        raise


def idempotency_of(
    headers: Mapping[str, str], body: bytes, replay_id: str | None, asked_in_url: str = ""
) -> Idempotency | None:
    """The request's idempotency key, if it has one: the verified replay id of a signed
    request, else an ``Idempotency-Key`` header."""
    if replay_id is not None:
        # Standard Webhooks' webhook-id. (Grafana's replay id is its signature over the
        # body, so it never comes again with another body.)
        return Idempotency.of(replay_id[:IDEMPOTENCY_KEY_MAX], "webhook-id", body, asked_in_url)
    for name in IDEMPOTENCY_HEADERS:
        value = header.get(headers, name)
        if value and value.strip():
            key = value.strip()[:IDEMPOTENCY_KEY_MAX]
            return Idempotency.of(key, name, body, asked_in_url)
    return None


async def log_rejection(
    request: Request,
    integration: IntakeIntegration,
    body: bytes,
    error: TocsinError | str,
    status: int,
    now: datetime,
    response: dict[str, Any] | None = None,
) -> None:
    """Record a refused request in the integration's log, in a transaction of its own (the
    request's transaction rolls back), with the ``response`` it got if it is answered as
    accepted. Never lets logging failure change the answer."""
    detail = error if isinstance(error, str) else error.detail
    try:
        async with intake_transaction(request) as executor:
            await inbound_events.record(
                executor,
                integration=integration,
                outcome=EventOutcome.REJECTED,
                http_status=status,
                body=body,
                now=now,
                detail=detail,
                response=response,
            )
    except Exception as failure:
        log.warning("could not log a rejected event", error=repr(failure))
