"""Sending a test alert into an integration, from its page.

The alert is a body in the integration's own format (``ingest/test_alerts.py``), parsed by
that format and applied by the intake pipeline like a request to ``/ingest/{key}``: it
opens an incident on the service the integration routes it to (or joins the open one of an
earlier test), is logged in the integration's event log, and pages the service's policy.
Only someone who manages the integration may send one (a test pages real people).
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from tocsin.actions.actors import Actor
from tocsin.actions.intake import pipeline
from tocsin.actions.intake.lookups import IntakeIntegration
from tocsin.actions.intake.triggers import Applied
from tocsin.actions.services import integrations
from tocsin.db.executors import OnSession
from tocsin.errors import InvalidInput
from tocsin.ingest import sender_config, test_alerts
from tocsin.ingest.formats import FORMATS


async def send(
    session: AsyncSession, *, actor: Actor, integration_id: uuid.UUID, now: datetime
) -> Applied:
    """What became of the test alert (``created`` or ``deduplicated``, with its incident)."""
    loaded = await integrations.managed(session, actor=actor, integration_id=integration_id)
    integration = loaded.integration
    body = test_alerts.body_for(integration.kind.value, now)
    if body is None or integration.kind.value not in FORMATS:
        raise InvalidInput(
            "kind",
            f"a {sender_config.kind_name(integration.kind.value)} integration takes pings, "
            "not alerts",
        )
    if not integration.is_enabled:
        raise InvalidInput("is_enabled", "the integration is disabled: enable it first")
    format_ = FORMATS[integration.kind.value]
    inbound = format_.to_alerts(
        format_.parse(body, {"content-type": "application/json"}), received_at=now
    )
    receipt, _ = await pipeline.receive(
        OnSession(session),
        session=session,
        integration=IntakeIntegration.of(integration),
        inbound=inbound,
        body=body,
        idempotency=None,
        ip_address=actor.ip_address,
        now=now,
        http_status=202,
        respond=pipeline.accepted,
    )
    return receipt.results[0]
