"""The intake pipeline every route shares: from a verified, parsed body to committed changes.

Order of work for one request (the HTTP route does 1-3, this module 4-7):

1. find the integration by its key (unknown or disabled: 404);
2. check its rate limit (429 with Retry-After);
3. verify the signature when the integration has a secret (401), then parse (400, or 202
   for an event tocsin ignores on purpose);
4. an idempotency key already applied → the stored answer, nothing changes;
5. route each alert to a service (the integration's, or the first matching rule's, or the
   fallback: an alert is never dropped);
6. apply each alert (``actions.alerts``);
7. log the event with its answer, in the same transaction.

The route's transaction commits before it answers, so a 2xx means the change is durable.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from tocsin.actions import alerts, inbound_events
from tocsin.actions.integrations import routing_rules_of
from tocsin.db.models.integrations import EventOutcome, Integration
from tocsin.db.models.services import Service
from tocsin.domain import routing
from tocsin.errors import NotFound
from tocsin.ingest.model import InboundAlert


@dataclass(frozen=True)
class Receipt:
    results: tuple[alerts.Applied, ...]
    # The stored answer of an earlier, identical delivery (nothing was applied now).
    replayed: dict[str, Any] | None = None


async def receive(
    session: AsyncSession,
    *,
    integration: Integration,
    inbound: Sequence[InboundAlert],
    body: bytes,
    idempotency_key: str | None,
    ip_address: str | None,
    now: datetime,
    http_status: int,
    respond: Callable[[Receipt], dict[str, Any]],
) -> tuple[Receipt, dict[str, Any]]:
    """Apply ``inbound`` for ``integration``; returns the receipt and the response body
    (``respond`` turns the results into the source's own response shape)."""
    if idempotency_key:
        stored = await inbound_events.applied_response(
            session, integration_id=integration.id, idempotency_key=idempotency_key
        )
        if stored is not None:
            return Receipt((), replayed=stored), stored
    actor = alerts.integration_actor(integration, ip_address)
    rules: list[routing.Rule] | None = None
    services: dict[uuid.UUID, Service] = {}
    results: list[alerts.Applied] = []

    def loader(service_id: uuid.UUID) -> alerts.ServiceLoader:
        async def load() -> Service:
            if service_id not in services:
                service = await session.get(Service, service_id)
                if service is None:
                    raise NotFound("service", service_id)
                services[service_id] = service
            return services[service_id]

        return load

    for alert in inbound:
        if integration.service_id is not None:
            service_id, rule_position = integration.service_id, None
        else:
            if rules is None:
                rules = await routing_rules_of(session, integration.id)
            assert integration.fallback_service_id is not None  # CHECK service_or_fallback
            service_id, rule_position = routing.route(alert, rules, integration.fallback_service_id)
        results.append(
            await alerts.apply(
                session,
                integration=integration,
                alert=alert,
                service=loader(service_id),
                actor=actor,
                now=now,
                routed_by_rule=rule_position,
            )
        )
    receipt = Receipt(tuple(results))
    response = respond(receipt)
    await inbound_events.record(
        session,
        integration=integration,
        outcome=EventOutcome.APPLIED,
        http_status=http_status,
        body=body,
        now=now,
        idempotency_key=idempotency_key,
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
