"""What follows a delivery's final outcome: the next tier, or the operations path.

Called whenever deliveries of a page reach a final failure (a permanent error, the last
retry, a provider's late failure report). The page row is locked first, so two deliveries
of one page failing at the same moment are judged one after the other: the second sees
the first's failure, and "every channel failed" is noticed exactly once.

* A tier whose every lower tier has finally failed is released: its queued deliveries (and
  the digests its bundled ones wait in) become due now.
* When every delivery of a page has failed, the page is marked unreachable, the timeline
  says so, and an incident is opened on the operations service (a separate path: the
  failure of one person's channels is itself paged), unless the page already belongs to
  that service, which would only loop.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from tocsin.actions import audit
from tocsin.actions.actors import system_actor
from tocsin.actions.incidents import incidents
from tocsin.actions.intake import alerts
from tocsin.db.models.deliveries import Delivery
from tocsin.db.models.incidents import Incident, Page
from tocsin.db.models.services import Service
from tocsin.db.models.users import User
from tocsin.domain import channels
from tocsin.domain.alerts import Severity
from tocsin.domain.channels import Tier
from tocsin.domain.deliveries import DeliveryStatus
from tocsin.domain.incidents import OPEN

NOTIFIER = system_actor("notifier")
OPS_GROUP_WINDOW = timedelta(hours=4)


@dataclass(frozen=True)
class OpsPolicy:
    # Name or id of the operations service; None: only the timeline and metrics know.
    service: str | None


@dataclass
class Outcomes:
    """What the engine counts in /metrics."""

    unreachable: int = 0
    ops_incidents: int = 0


async def after_final(
    session: AsyncSession,
    page_ids: Iterable[uuid.UUID],
    *,
    ops: OpsPolicy,
    now: datetime,
    outcomes: Outcomes,
) -> None:
    for page_id in sorted(set(page_ids)):
        page = await session.scalar(
            sa.select(Page)
            .where(Page.id == page_id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
        if page is None:
            continue
        rows = (
            await session.execute(
                sa.select(Delivery.tier, Delivery.status).where(Delivery.page_id == page_id)
            )
        ).all()
        failed: dict[Tier, list[bool]] = defaultdict(list)
        for tier, status in rows:
            failed[Tier(tier)].append(status is DeliveryStatus.FAILED)
        for tier in channels.released_tiers(failed) - {Tier.GENTLE}:
            await _release(session, page_id, tier, now)
        if rows and all(status is DeliveryStatus.FAILED for _, status in rows):
            incident = await session.get(Incident, page.incident_id)
            if incident is not None and incident.status in OPEN:
                await unreachable(
                    session,
                    page,
                    incident,
                    reasons=["every channel failed"],
                    ops=ops,
                    now=now,
                    outcomes=outcomes,
                )


async def _release(session: AsyncSession, page_id: uuid.UUID, tier: Tier, now: datetime) -> None:
    await session.execute(
        sa.update(Delivery)
        .where(
            Delivery.page_id == page_id,
            Delivery.tier == int(tier),
            Delivery.status == DeliveryStatus.QUEUED,
            Delivery.next_attempt_at > now,
        )
        .values(next_attempt_at=now, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    waiting_in = sa.select(Delivery.digest_id).where(
        Delivery.page_id == page_id,
        Delivery.tier == int(tier),
        Delivery.status == DeliveryStatus.BUNDLED,
    )
    await session.execute(
        sa.update(Delivery)
        .where(
            Delivery.id.in_(waiting_in),
            Delivery.status == DeliveryStatus.QUEUED,
            Delivery.next_attempt_at > now,
        )
        .values(next_attempt_at=now, updated_at=now)
        .execution_options(synchronize_session=False)
    )


async def unreachable(
    session: AsyncSession,
    page: Page,
    incident: Incident,
    *,
    reasons: list[str],
    ops: OpsPolicy,
    now: datetime,
    outcomes: Outcomes | None = None,
) -> None:
    marked = await session.execute(
        sa.update(Page)
        .where(Page.id == page.id, Page.unreachable_at.is_(None))
        .values(unreachable_at=now)
        .execution_options(synchronize_session=False)
    )
    if not marked.rowcount:  # type: ignore[attr-defined]
        return
    user = await session.get(User, page.user_id)
    who = user.name if user else str(page.user_id)
    ops_service = await _ops_service(session, ops)
    raised: int | None = None
    if ops_service is not None and ops_service.id != incident.service_id:
        raised = await _raise(session, ops_service, incident, page.user_id, who, reasons, now)
    await audit.record(
        session,
        actor=NOTIFIER,
        action="notification.unreachable",
        resource_type="incident",
        resource_id=incident.id,
        team_id=incident.team_id,
        now=now,
        details={
            "user_id": str(page.user_id),
            "name": who,
            "level": page.level,
            "reasons": reasons,
            "operations_incident": raised,
        },
    )
    if outcomes is not None:
        outcomes.unreachable += 1
        outcomes.ops_incidents += raised is not None


async def _raise(
    session: AsyncSession,
    service: Service,
    incident: Incident,
    user_id: uuid.UUID,
    who: str,
    reasons: list[str],
    now: datetime,
) -> int:
    """An incident on the operations service, one open one per unreachable person: more
    failures for the same person become notes on it instead of more pages."""
    key = f"unreachable:{user_id}"
    open_one = await session.scalar(
        sa.select(Incident).where(
            Incident.service_id == service.id,
            Incident.group_key == key,
            Incident.status.in_(list(OPEN)),
        )
    )
    text = (
        f"Could not notify {who} of incident #{incident.number} ({incident.title}): "
        + "; ".join(reasons)
    )
    if open_one is not None:
        await incidents.add_note(
            session, incident_id=open_one.id, actor=NOTIFIER, text=text[:10_000], now=now
        )
        return open_one.number
    raised = await alerts.open_incident(
        session,
        service=service,
        title=f"tocsin could not reach {who}"[:1024],
        description=text,
        severity=Severity.CRITICAL,
        actor=NOTIFIER,
        now=now,
        group_key=key,
        group_until=now + OPS_GROUP_WINDOW,
        cause={"unreachable_user_id": str(user_id), "incident": incident.number},
    )
    return raised.number


async def _ops_service(session: AsyncSession, ops: OpsPolicy) -> Service | None:
    if not ops.service:
        return None
    try:
        by_id = uuid.UUID(ops.service)
    except ValueError:
        return await session.scalar(
            sa.select(Service).where(sa.func.lower(Service.name) == ops.service.lower())
        )
    return await session.get(Service, by_id)
