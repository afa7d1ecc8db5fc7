"""Turning a page into deliveries, by the paged person's rules.

Called by the dispatch engine module with the page row locked. Marking the page
dispatched is a conditional UPDATE (``dispatched_at IS NULL``), and a page has at most one
delivery per contact method (a unique constraint): a page is dispatched once, however many
engines run.

* The rules of the incident's urgency and the person's verified methods give one delivery
  per method (``domain.notification_rules.plan``). Intrusive tiers are due at their rule's
  delay, or at once when every lower tier is empty.
* Bundling: from the ``threshold``-th page for one service to one person within the
  window, the page's deliveries join the queued digest of each method (created if there is
  none, due after the digest delay), so a storm becomes one message per method.
* A page nobody can be reached for is not dropped: it is written on the timeline and the
  operations path is paged (``delivery_tiers.unreachable``).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from tocsin.actions import audit, delivery_tiers
from tocsin.actions.actors import system_actor
from tocsin.db.models.contact_methods import ContactMethod, NotificationRule
from tocsin.db.models.deliveries import Delivery
from tocsin.db.models.incidents import Incident, Page
from tocsin.domain import channels, notification_rules
from tocsin.domain.channels import ChannelKind, Tier
from tocsin.domain.deliveries import DeliveryStatus, Purpose
from tocsin.domain.incidents import IncidentStatus

NOTIFIER = system_actor("notifier")


@dataclass(frozen=True)
class DispatchPolicy:
    deliverable: frozenset[ChannelKind]
    bundle_threshold: int
    bundle_window: timedelta
    digest_delay: timedelta
    thread_domain: str


async def dispatch_page(
    session: AsyncSession,
    page: Page,
    *,
    policy: DispatchPolicy,
    ops: delivery_tiers.OpsPolicy,
    now: datetime,
    outcomes: delivery_tiers.Outcomes | None = None,
) -> bool:
    marked = await session.execute(
        sa.update(Page)
        .where(Page.id == page.id, Page.dispatched_at.is_(None))
        .values(dispatched_at=now)
        .execution_options(synchronize_session=False)
    )
    if not marked.rowcount:  # type: ignore[attr-defined]
        return False
    incident = await session.get(Incident, page.incident_id)
    if incident is None or incident.status is not IncidentStatus.TRIGGERED:
        return True  # acknowledged or resolved before it could be sent: nothing to send
    rules = [
        notification_rules.Rule(rule.urgency, rule.kind, rule.delay_minutes)
        for rule in await session.scalars(
            sa.select(NotificationRule).where(NotificationRule.user_id == page.user_id)
        )
    ]
    methods = [
        notification_rules.Method(method.id, method.kind, method.verified_at is not None)
        for method in await session.scalars(
            sa.select(ContactMethod).where(
                ContactMethod.user_id == page.user_id, ContactMethod.disabled_at.is_(None)
            )
        )
    ]
    plan = notification_rules.plan(
        rules, methods, urgency=incident.urgency, deliverable=policy.deliverable
    )
    unreachable = [f"{kind.value}: {reason}" for kind, reason in plan.unreachable]
    if not plan.deliveries:
        await delivery_tiers.unreachable(
            session,
            page,
            incident,
            reasons=unreachable or ["no notification rules"],
            ops=ops,
            now=now,
            outcomes=outcomes,
        )
        return True
    bundled = await _bundling(session, page, incident, policy, now)
    thread = _thread_id(incident.id, page.user_id, policy.thread_domain)
    first = await _is_first_page(session, page)
    released = channels.released_tiers({p.tier: [False] for p in plan.deliveries})
    rows = []
    for planned in plan.deliveries:
        due = page.created_at + planned.delay
        if planned.tier is not Tier.GENTLE and planned.tier in released:
            due = min(due, now)
        delivery_id = uuid.uuid4()
        details: dict[str, str] = {}
        if planned.kind is ChannelKind.EMAIL:
            details = {
                "thread_id": thread,
                "message_id": thread if first else f"<{delivery_id}@{policy.thread_domain}>",
            }
        rows.append(
            {
                "id": delivery_id,
                "purpose": Purpose.PAGE,
                "page_id": page.id,
                "incident_id": incident.id,
                "user_id": page.user_id,
                "contact_method_id": planned.method_id,
                "kind": planned.kind,
                "tier": int(planned.tier),
                "status": DeliveryStatus.BUNDLED if bundled else DeliveryStatus.QUEUED,
                "next_attempt_at": None if bundled else due,
                "details": details,
                "digest_id": None,
                "attempts": 0,
                "created_at": now,
                "updated_at": now,
            }
        )
        if bundled:
            rows[-1]["digest_id"] = await join_digest(
                session,
                user_id=page.user_id,
                method_id=planned.method_id,
                kind=planned.kind,
                due=max(due, now + policy.digest_delay),
                now=now,
            )
    await session.execute(
        insert(Delivery)
        .values(rows)
        .on_conflict_do_nothing(constraint="uq_delivery_page_id_contact_method_id")
    )
    await audit.record(
        session,
        actor=NOTIFIER,
        action="notification.dispatched",
        resource_type="incident",
        resource_id=incident.id,
        team_id=incident.team_id,
        now=now,
        details={
            "user_id": str(page.user_id),
            "level": page.level,
            "channels": sorted({p.kind.value for p in plan.deliveries}),
            "bundled": bundled,
            **({"unreachable": unreachable} if unreachable else {}),
        },
    )
    return True


async def join_digest(
    session: AsyncSession,
    *,
    user_id: uuid.UUID,
    method_id: uuid.UUID,
    kind: ChannelKind,
    due: datetime,
    now: datetime,
) -> uuid.UUID:
    """The queued digest of a contact method (a new one due at ``due`` if there is none)."""
    # Serialise digest creation per method: two dispatchers must not open two digests.
    await session.execute(
        sa.select(sa.func.pg_advisory_xact_lock(sa.func.hashtext(f"digest:{method_id}")))
    )
    existing = await session.scalar(
        sa.select(Delivery.id).where(
            Delivery.contact_method_id == method_id,
            Delivery.purpose == Purpose.DIGEST,
            Delivery.status == DeliveryStatus.QUEUED,
        )
    )
    if existing is not None:
        return existing
    digest = Delivery(
        id=uuid.uuid4(),
        purpose=Purpose.DIGEST,
        user_id=user_id,
        contact_method_id=method_id,
        kind=kind,
        tier=int(channels.TIER_OF[kind]),
        status=DeliveryStatus.QUEUED,
        next_attempt_at=due,
        attempts=0,
        details={},
        created_at=now,
        updated_at=now,
    )
    session.add(digest)
    await session.flush()
    return digest.id


async def _bundling(
    session: AsyncSession, page: Page, incident: Incident, policy: DispatchPolicy, now: datetime
) -> bool:
    if policy.bundle_threshold <= 0:
        return False
    earlier = await session.scalar(
        sa.select(sa.func.count())
        .select_from(Page)
        .join(Incident, Incident.id == Page.incident_id)
        .where(
            Page.user_id == page.user_id,
            Incident.service_id == incident.service_id,
            Page.created_at >= now - policy.bundle_window,
            Page.id != page.id,
        )
    )
    return int(earlier or 0) + 1 >= policy.bundle_threshold


async def _is_first_page(session: AsyncSession, page: Page) -> bool:
    """Whether no earlier step paged this person for this incident (tokens only grow, so
    this is the same answer however the pages are dispatched)."""
    earlier = await session.scalar(
        sa.select(Page.id)
        .where(
            Page.incident_id == page.incident_id,
            Page.user_id == page.user_id,
            Page.step_token < page.step_token,
        )
        .limit(1)
    )
    return earlier is None


def _thread_id(incident_id: uuid.UUID, user_id: uuid.UUID, domain: str) -> str:
    return f"<incident.{incident_id}.{user_id}@{domain}>"
