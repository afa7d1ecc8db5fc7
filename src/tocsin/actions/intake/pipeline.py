"""The intake pipeline every route shares: from a verified, parsed body to committed changes.

Order of work for one request (the HTTP route does 1 to 3, this module 4 to 7):

1. find the integration by its key (unknown or disabled: 404);
2. check its rate limit (429 with Retry-After);
3. verify the signature when the integration has a secret (401), then parse (400, or 202
   for an event tocsin ignores on purpose);
4. an idempotency key already applied → the stored answer if this is a retry of that
   request, nothing changes; with a different request, refused (422);
5. route each alert to a service (the integration's, or the first matching rule's, or the
   fallback: an alert is never dropped);
6. apply each alert: triggers through ``actions.alert_triggers``, acknowledge and resolve
   events through the incident actions (``actions.alerts``);
7. log the event with its answer, in the same transaction.

The route's transaction commits before it answers, so a 2xx means the change is durable.
Requests made only of triggers (nearly all traffic) run on a raw psycopg connection
(``Database.raw_transaction``); a request that acknowledges or resolves needs the ORM's
incident actions and runs in a session (``needs_session``).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from tocsin.actions.intake import alerts, inbound_events, lookups, triggers
from tocsin.actions.intake.lookups import IntakeIntegration, ServiceRef
from tocsin.db.executors import Executor
from tocsin.db.models.integrations import EventOutcome
from tocsin.domain import routing
from tocsin.domain.alerts import AlertAction, InboundAlert


@dataclass(frozen=True)
class Receipt:
    results: tuple[alerts.Applied, ...]
    # The stored answer of an earlier delivery this one retries (nothing was applied now).
    replayed: dict[str, Any] | None = None


def needs_session(inbound: Sequence[InboundAlert]) -> bool:
    """Whether applying ``inbound`` needs the ORM incident actions (not only triggers)."""
    return any(alert.action is not AlertAction.TRIGGER for alert in inbound)


async def receive(
    executor: Executor,
    *,
    session: AsyncSession | None,
    integration: IntakeIntegration,
    inbound: Sequence[InboundAlert],
    body: bytes,
    idempotency: inbound_events.Idempotency | None,
    ip_address: str | None,
    now: datetime,
    http_status: int,
    respond: Callable[[Receipt], dict[str, Any]],
) -> tuple[Receipt, dict[str, Any]]:
    """Apply ``inbound`` for ``integration``; returns the receipt and the response body
    (``respond`` turns the results into the source's own response shape). ``session`` is
    the transaction ``executor`` runs in when it is a session's, else ``None``."""
    if idempotency is not None:
        stored = await inbound_events.replayed_response(
            executor, integration_id=integration.id, idempotency=idempotency
        )
        if stored is not None:
            return Receipt((), replayed=stored), stored
    actor = alerts.integration_actor(integration, ip_address)

    def loader(service_id: uuid.UUID) -> triggers.ServiceLoader:
        async def load() -> ServiceRef:
            return await lookups.service_ref(executor, service_id)

        return load

    results: list[alerts.Applied] = []
    for alert in inbound:
        routed = None
        if integration.service_id is not None:
            service_id = integration.service_id
        else:
            rules = await lookups.routing_rules(executor, integration.id)
            assert integration.fallback_service_id is not None  # CHECK service_or_fallback
            service_id, position = routing.route(alert, rules, integration.fallback_service_id)
            routed = f"rule {position}" if position else "fallback service"
        if alert.action is AlertAction.TRIGGER:
            applied = await triggers.trigger(
                executor,
                source=alerts.source_of(integration, routed),
                alert=alert,
                service=loader(service_id),
                actor=actor,
                now=now,
            )
        else:
            assert session is not None, "needs_session() said this request needs a session"
            applied = await alerts.apply(
                session,
                integration=integration,
                alert=alert,
                service=loader(service_id),
                actor=actor,
                now=now,
                routed=routed,
            )
        results.append(applied)
    receipt = Receipt(tuple(results))
    response = respond(receipt)
    await inbound_events.record(
        executor,
        integration=integration,
        outcome=EventOutcome.APPLIED,
        http_status=http_status,
        body=body,
        now=now,
        idempotency=idempotency,
        detail=", ".join(f"{result.dedup_key}: {result.result.value}" for result in results)[:2000],
        response=response,
    )
    return receipt, response


def accepted(receipt: Receipt) -> dict[str, Any]:
    """tocsin's own answer (``POST /ingest/…``): what became of each alert."""
    return {
        "status": "accepted",
        "results": [
            {
                "dedup_key": result.dedup_key,
                "result": result.result.value,
                "incident_number": result.incident_number,
                **({"detail": result.detail} if result.detail else {}),
            }
            for result in receipt.results
        ],
    }
