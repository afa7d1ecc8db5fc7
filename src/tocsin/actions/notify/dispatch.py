"""Turning pages into deliveries, by the paged people's rules, a batch of pages at a time.

Called by the dispatch engine module. Claiming a page marks it dispatched in the same
statement, only while it is not (``dispatched_at IS NULL``, ``FOR UPDATE SKIP LOCKED``),
and a page has at most one delivery per contact method (a unique constraint): a page is
dispatched once, however many engines run.

* The rules of the incident's urgency and the person's verified methods give one delivery
  per method (``domain.notification_rules.plan``). Intrusive tiers are due at their rule's
  delay, or at once when every lower tier is empty.
* Bundling: from the ``threshold``-th page for one service to one person within the
  window, the page's deliveries join the queued digest of each method (created if there is
  none, due after the digest delay), so a storm becomes one message per method.
* A page nobody can be reached for is not dropped: it is written on the timeline and the
  operations path is paged (``delivery_tiers.unreachable``).

The batch costs a fixed handful of statements however many pages it holds
(``delivery_statements``): claim and mark, rules, methods, one INSERT of every delivery,
one of every timeline event. Only bundling and unreachable pages, both rare, go one by one.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from tocsin.actions import audit
from tocsin.actions.actors import system_actor
from tocsin.actions.notify import statements, tiers
from tocsin.db import driver
from tocsin.db.models.deliveries import Delivery
from tocsin.db.models.incidents import Incident, Page
from tocsin.domain import channels, notices, notification_rules
from tocsin.domain.channels import ChannelKind, Tier
from tocsin.domain.deliveries import DeliveryStatus, Purpose
from tocsin.domain.incidents import IncidentStatus, Urgency

log = structlog.get_logger(__name__)

NOTIFIER = system_actor("notifier")


@dataclass(frozen=True)
class DispatchPolicy:
    deliverable: frozenset[ChannelKind]
    bundle_threshold: int
    bundle_window: timedelta
    digest_delay: timedelta
    thread_domain: str


@dataclass(frozen=True)
class ClaimedPage:
    """A page claimed and marked dispatched (one row of ``CLAIM_PAGES``)."""

    id: uuid.UUID
    incident_id: uuid.UUID
    user_id: uuid.UUID
    level: int
    created_at: datetime
    status: str
    urgency: str
    service_id: uuid.UUID
    team_id: uuid.UUID
    first_page: bool
    # Pages of this person for this service within the bundle window dispatched before
    # this one, counted up to the bundle threshold.
    earlier_pages: int


@dataclass
class Dispatched:
    """What ``dispatch_due`` did."""

    claimed: int = 0
    applied: int = 0
    # Pages whose planning raised (a bug, bad data): left undispatched, due again.
    failed: int = 0


@dataclass
class _Planned:
    page: ClaimedPage
    plan: notification_rules.Plan
    bundled: bool


async def dispatch_due(
    session: AsyncSession,
    *,
    limit: int,
    policy: DispatchPolicy,
    ops: tiers.OpsPolicy,
    now: datetime,
    outcomes: tiers.Outcomes | None = None,
    wake_senders: bool = True,
) -> Dispatched:
    """Claim up to ``limit`` undispatched pages and write their deliveries. The engines'
    delivery modules are woken when this commits, unless ``wake_senders`` is false (the
    caller claims the deliveries itself, in this transaction)."""
    rows = await driver.execute(
        session,
        statements.CLAIM_PAGES,
        {
            "now": now,
            "limit": limit,
            "bundling": policy.bundle_threshold > 0,
            "bundle_threshold": policy.bundle_threshold,
            "window_start": now - policy.bundle_window,
        },
    )
    pages = [ClaimedPage(*row) for row in rows]
    result = Dispatched(claimed=len(pages))
    # Acknowledged or resolved before it could be sent: nothing to send, and done.
    live = [page for page in pages if page.status == IncidentStatus.TRIGGERED.value]
    result.applied = len(pages) - len(live)
    if not live:
        return result
    rules, methods = await _rules_and_methods(session, sorted({p.user_id for p in live}))
    planned: list[_Planned] = []
    retry: list[uuid.UUID] = []
    for page in live:
        try:
            plan = notification_rules.plan(
                rules[page.user_id],
                methods[page.user_id],
                urgency=Urgency(page.urgency),
                deliverable=policy.deliverable,
            )
        except Exception:
            log.exception("planning a page failed", page=str(page.id))
            retry.append(page.id)
            continue
        bundled = 0 < policy.bundle_threshold <= page.earlier_pages + 1
        planned.append(_Planned(page, plan, bundled))
    rows_out: list[dict[str, Any]] = []
    events: list[audit.Event] = []
    digests: dict[uuid.UUID, uuid.UUID] = {}
    for item in planned:
        unreachable = [f"{kind.value}: {reason}" for kind, reason in item.plan.unreachable]
        if not item.plan.deliveries:
            await _unreachable(session, item.page, unreachable, ops, now, outcomes)
            continue
        await _deliveries(session, item, policy, now, rows_out, digests)
        events.append(
            audit.Event(
                item.page.incident_id,
                item.page.team_id,
                {
                    "user_id": str(item.page.user_id),
                    "level": item.page.level,
                    "channels": sorted({p.kind.value for p in item.plan.deliveries}),
                    "bundled": item.bundled,
                    **({"unreachable": unreachable} if unreachable else {}),
                },
            )
        )
    result.applied += len(planned)
    if rows_out:
        await driver.execute(
            session,
            statements.INSERT_DELIVERIES,
            {"now": now, "rows": statements.records(rows_out), "wake": wake_senders},
        )
    await audit.record_many(
        session,
        actor=NOTIFIER,
        action="notification.dispatched",
        resource_type="incident",
        now=now,
        events=events,
    )
    if retry:
        result.failed = len(retry)
        await session.execute(
            sa.update(Page)
            .where(Page.id.in_(retry))
            .values(dispatched_at=None)
            .execution_options(synchronize_session=False)
        )
    return result


async def next_due(session: AsyncSession) -> datetime | None:
    """The creation time of the oldest page still undispatched (held by another engine,
    or left by a failure), if any."""
    rows = await driver.execute(session, statements.NEXT_PAGE_DUE, {})
    due: datetime | None = rows[0][0]
    return due


async def _rules_and_methods(
    session: AsyncSession, user_ids: list[uuid.UUID]
) -> tuple[
    dict[uuid.UUID, list[notification_rules.Rule]], dict[uuid.UUID, list[notification_rules.Method]]
]:
    rules: dict[uuid.UUID, list[notification_rules.Rule]] = defaultdict(list)
    for user_id, urgency, kind, delay in await driver.execute(
        session, statements.RULES_OF, {"user_ids": user_ids}
    ):
        rules[user_id].append(notification_rules.Rule(Urgency(urgency), ChannelKind(kind), delay))
    methods: dict[uuid.UUID, list[notification_rules.Method]] = defaultdict(list)
    for method_id, user_id, kind, verified in await driver.execute(
        session, statements.METHODS_OF, {"user_ids": user_ids}
    ):
        methods[user_id].append(notification_rules.Method(method_id, ChannelKind(kind), verified))
    return rules, methods


async def _deliveries(
    session: AsyncSession,
    item: _Planned,
    policy: DispatchPolicy,
    now: datetime,
    rows: list[dict[str, Any]],
    digests: dict[uuid.UUID, uuid.UUID],
) -> None:
    """Add the page's deliveries to ``rows`` (joining digests when it is bundled)."""
    page = item.page
    thread = notices.thread_id(page.incident_id, page.user_id, policy.thread_domain)
    released = channels.released_tiers({p.tier: [False] for p in item.plan.deliveries})
    for planned in item.plan.deliveries:
        due = page.created_at + planned.delay
        if planned.tier is not Tier.GENTLE and planned.tier in released:
            due = min(due, now)
        delivery_id = uuid.uuid4()
        details: dict[str, str] = {}
        if planned.kind is ChannelKind.EMAIL:
            details = {
                "thread_id": thread,
                "message_id": (
                    thread if page.first_page else f"<{delivery_id}@{policy.thread_domain}>"
                ),
            }
        digest_id: uuid.UUID | None = None
        if item.bundled:
            digest_id = digests.get(planned.method_id)
            if digest_id is None:
                digest_id = digests[planned.method_id] = await join_digest(
                    session,
                    user_id=page.user_id,
                    method_id=planned.method_id,
                    kind=planned.kind,
                    due=max(due, now + policy.digest_delay),
                    now=now,
                )
        rows.append(
            {
                "id": delivery_id,
                "page_id": page.id,
                "incident_id": page.incident_id,
                "user_id": page.user_id,
                "method_id": planned.method_id,
                "kind": planned.kind.value,
                "tier": int(planned.tier),
                "status": (DeliveryStatus.BUNDLED if item.bundled else DeliveryStatus.QUEUED).value,
                "due": None if item.bundled else due,
                "details": details,
                "digest_id": digest_id,
            }
        )


async def _unreachable(
    session: AsyncSession,
    page: ClaimedPage,
    reasons: list[str],
    ops: tiers.OpsPolicy,
    now: datetime,
    outcomes: tiers.Outcomes | None,
) -> None:
    loaded = await session.get(Page, page.id)
    incident = await session.get(Incident, page.incident_id)
    assert loaded is not None  # claimed, so locked, by this transaction
    assert incident is not None  # pages go with their incident
    await tiers.unreachable(
        session,
        loaded,
        incident,
        reasons=reasons or ["no notification rules"],
        ops=ops,
        now=now,
        outcomes=outcomes,
    )


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
