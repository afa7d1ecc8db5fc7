"""Sending deliveries: claim due ones a batch at a time, check them, mark them sending.

The send protocol (``engine/deliveries.py`` drives it):

1. ``claim_due``, in one transaction: claim due rows (``FOR UPDATE SKIP LOCKED``) and
   check each (``domain.deliveries.before_sending``): the incident is still triggered
   (else cancelled), its service is not in maintenance (else held until the window ends),
   the method is usable (else failed, permanently) and not rate limited (else bundled into
   the method's digest); mark the rest ``sending`` with a lease and mint their links. The
   claim commits before any provider is called.
2. The provider is called outside any transaction, with a timeout (``notify.sending``).
3. ``delivery_outcomes.record`` records the outcomes with a compare-and-set on (status
   ``sending``, attempt number): a late or duplicate outcome changes nothing.

While 2 runs and until 3 is written, the worker renews the lease (``renew_leases``), so
leases are short and a dead worker's sends are found within one lease. If the process
dies, the lease expires and ``recover_expired`` turns the row ``unknown``: the channel
decides whether it may be sent again (email: yes, with the same Message-ID) or must wait
for the provider's word (voice: never dial blindly).

The common cases (send, cancel, hold) are one statement each for the whole batch
(``delivery_statements``); the rare ones (a method gone, a rate limit) go row by row.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import sqlalchemy as sa
import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from tocsin.actions.notify import dispatch, magic_links, notices, outcomes, statements, tiers
from tocsin.db import driver
from tocsin.db.models.deliveries import Delivery
from tocsin.domain import channels
from tocsin.domain import deliveries as rules
from tocsin.domain.channels import ChannelKind
from tocsin.domain.deliveries import Check, DeliveryStatus, ErrorCode, Purpose
from tocsin.domain.notices import Notice

log = structlog.get_logger(__name__)

# A row whose message could not be built (a bug, bad data) is tried again this much later;
# the rest of its batch goes ahead.
RETRY_AFTER_FAILURE = timedelta(seconds=30)

MaintenanceLookup = Callable[[uuid.UUID], Awaitable[datetime | None]]


@dataclass(frozen=True)
class SendPolicy:
    deliverable: frozenset[ChannelKind]
    links: notices.LinkPolicy
    lease: timedelta
    ops: tiers.OpsPolicy


@dataclass(frozen=True)
class Prepared:
    delivery_id: uuid.UUID
    attempt: int
    kind: ChannelKind
    notice: Notice


@dataclass
class Claim:
    """What ``claim_due`` did."""

    claimed: int = 0
    # Marked ``sending``: to be sent once this transaction commits.
    prepared: list[Prepared] = field(default_factory=list)
    # Pages whose deliveries failed for good here (for ``delivery_tiers.after_final``).
    final_pages: list[uuid.UUID] = field(default_factory=list)
    # Rows whose message could not be built: due again later.
    failed: int = 0


async def claim_due(
    session: AsyncSession,
    *,
    limit: int,
    policy: SendPolicy,
    now: datetime,
    maintenance_until: MaintenanceLookup,
) -> Claim:
    """Claim up to ``limit`` due deliveries, check them, and mark the sendable ones
    ``sending`` with a lease (see the module docstring)."""
    rows = await driver.execute(session, statements.CLAIM_DELIVERIES, {"now": now, "limit": limit})
    claim = Claim(claimed=len(rows))
    if not rows:
        return claim
    claimed = [notices.Claimed.from_row(row) for row in rows]
    members = await notices.digest_members(
        session, [item.id for item in claimed if item.purpose is Purpose.DIGEST]
    )
    cancel: list[uuid.UUID] = []
    hold: list[tuple[uuid.UUID, datetime]] = []
    sendable: list[notices.Claimed] = []
    for item in claimed:
        incident = item.incident
        triggered = incident is not None and incident.triggered
        verdict = rules.before_sending(
            item.purpose,
            kind=item.kind.value,
            incident_triggered=triggered,
            maintenance_until=(
                await maintenance_until(incident.service_id)
                if incident is not None and triggered and item.purpose is Purpose.PAGE
                else None
            ),
            digest_members=len(members.get(item.id, ())),
            method_usable=item.method_usable,
            method_verified=item.verified,
            deliverable=item.kind in policy.deliverable,
        )
        if verdict.check is Check.CANCEL:
            cancel.append(item.id)
        elif verdict.check is Check.HOLD:
            assert verdict.until is not None
            hold.append((item.id, verdict.until))
        elif verdict.check is Check.FAIL:
            assert verdict.error is not None
            delivery = await _loaded(session, item.id)
            claim.final_pages += await outcomes.fail(
                session, delivery, verdict.error, verdict.detail, now
            )
        else:
            sendable.append(item)
    sendable = await _within_rate_limits(session, sendable, now)
    links = magic_links.Issuer(now)
    later: list[uuid.UUID] = []
    for item in sendable:
        try:
            notice = notices.build(
                item, members=members.get(item.id, ()), policy=policy.links, links=links, now=now
            )
        except Exception:
            log.exception("building a message failed", delivery=str(item.id))
            claim.failed += 1
            later.append(item.id)
            continue
        claim.prepared.append(Prepared(item.id, item.attempts + 1, item.kind, notice))
    # The row-by-row changes above go first: the statements below are not the ORM's.
    await session.flush()
    if cancel:
        await driver.execute(session, statements.CANCEL, {"now": now, "ids": cancel})
    if hold:
        await driver.execute(
            session,
            statements.HOLD,
            {
                "now": now,
                "rows": statements.records({"id": i, "until": until} for i, until in hold),
            },
        )
    if later:
        await driver.execute(
            session,
            statements.LATER,
            {"now": now, "ids": later, "until": now + RETRY_AFTER_FAILURE},
        )
    if claim.prepared:
        await driver.execute(
            session,
            statements.MARK_SENDING,
            {
                "now": now,
                "lease_until": now + policy.lease,
                "ids": [item.delivery_id for item in claim.prepared],
            },
        )
        await links.insert(session)
    return claim


async def renew_leases(
    session: AsyncSession, leased: dict[uuid.UUID, int], *, until: datetime
) -> None:
    """Extend the leases of these sends in flight (delivery id → attempt) to ``until``."""
    if not leased:
        return
    await driver.execute(
        session,
        statements.RENEW_LEASES,
        {"lease_until": until, "ids": list(leased), "attempts": list(leased.values())},
    )


async def next_due(session: AsyncSession) -> datetime | None:
    """When a delivery is next due, or a lease of a send in flight next runs out."""
    rows = await driver.execute(session, statements.NEXT_DELIVERY_DUE, {})
    due: datetime | None = rows[0][0]
    return due


async def _loaded(session: AsyncSession, delivery_id: uuid.UUID) -> Delivery:
    delivery = await session.get(Delivery, delivery_id)
    assert delivery is not None  # claimed, so locked, by this transaction
    return delivery


async def _within_rate_limits(
    session: AsyncSession, sendable: Sequence[notices.Claimed], now: datetime
) -> list[notices.Claimed]:
    """The deliveries whose method may be sent to now. The others wait: a page joins its
    method's digest, due when the limit allows; anything else is simply due then."""
    limited = [
        item
        for item in sendable
        if item.kind in channels.RATE_LIMITS and item.contact_method_id is not None
    ]
    if not limited:
        return list(sendable)
    longest = max(window for _, window in channels.RATE_LIMITS.values())
    method_ids = sorted({m for item in limited if (m := item.contact_method_id) is not None})
    # One claim at a time decides for a number: another claim (another worker, or this
    # worker's next batch) waits here until this one has committed its "sending", and then
    # sees it below. In a fixed order, so two claims never wait on each other.
    for locked in method_ids:
        await session.execute(
            sa.select(sa.func.pg_advisory_xact_lock(sa.func.hashtext(f"rate:{locked}")))
        )
    # A text in flight (claimed, its outcome not yet recorded) or of unknown outcome counts
    # as sent when it was tried: a storm must not slip a second text into the minute while
    # the first is still with the provider. (Not the rows claimed now: a retry of an
    # unknown attempt is not limited by itself.)
    attempted = sa.func.coalesce(Delivery.sent_at, Delivery.last_attempt_at)
    in_flight = Delivery.status.in_([DeliveryStatus.SENDING, DeliveryStatus.UNKNOWN])
    recent: dict[uuid.UUID, list[datetime]] = defaultdict(list)
    for method_id, at in await session.execute(
        sa.select(Delivery.contact_method_id, attempted).where(
            Delivery.contact_method_id.in_(method_ids),
            Delivery.id.not_in([item.id for item in sendable]),
            sa.or_(
                Delivery.sent_at > now - longest,
                sa.and_(in_flight, Delivery.last_attempt_at > now - longest),
            ),
        )
    ):
        if method_id is not None and at is not None:  # both, by the WHERE clause
            recent[method_id].append(at)
    allowed: list[notices.Claimed] = []
    digests: dict[uuid.UUID, uuid.UUID] = {}
    # Pages before digests: a number's due digest and its due pages can come in one batch,
    # and the first of them goes. Were it the digest, the pages held back would join that
    # very digest, whose text (its members read before this) leaves them out: they would
    # be marked sent with it, never having been texted. A page first, the digest waits for
    # the minute, and the pages held back join it.
    for item in sorted(sendable, key=lambda each: each.purpose is Purpose.DIGEST):
        method_id = item.contact_method_id
        until = (
            channels.rate_limited_until(item.kind, recent[method_id], now)
            if method_id is not None
            else None
        )
        if until is None:
            allowed.append(item)
            if method_id is not None:
                # Two sends to one number in one batch count against the same limit.
                recent[method_id].append(now)
            continue
        assert method_id is not None
        delivery = await _loaded(session, item.id)
        delivery.updated_at = now
        if item.purpose is Purpose.PAGE:
            # A storm to one number brings many of its pages in one batch: they join
            # the same digest, found (and locked) once.
            if method_id not in digests:
                digests[method_id] = await dispatch.join_digest(
                    session,
                    user_id=item.user_id,
                    method_id=method_id,
                    kind=item.kind,
                    due=until,
                    now=now,
                )
            delivery.digest_id = digests[method_id]
            delivery.status = DeliveryStatus.BUNDLED
            delivery.next_attempt_at = None
        else:
            delivery.next_attempt_at = until
    return allowed


async def recover_expired(
    session: AsyncSession, *, now: datetime, resendable: frozenset[ChannelKind], limit: int
) -> int:
    """``sending`` rows whose lease ran out (their worker died mid-call) become ``unknown``:
    due again at once where the channel may re-send, else left for the provider's word."""
    expired = (
        sa.select(Delivery.id)
        .where(Delivery.status == DeliveryStatus.SENDING, Delivery.lease_until <= now)
        .limit(limit)
        .with_for_update(skip_locked=True)
        .scalar_subquery()
    )
    resend = sa.and_(
        Delivery.kind.in_([kind.value for kind in resendable]),
        Delivery.attempts < rules.MAX_ATTEMPTS,
    )
    recovered = await session.execute(
        sa.update(Delivery)
        .where(Delivery.id.in_(expired), Delivery.status == DeliveryStatus.SENDING)
        .values(
            status=DeliveryStatus.UNKNOWN,
            lease_until=None,
            error_code=ErrorCode.LEASE_EXPIRED.value,
            error_detail="the worker sending it stopped before recording the outcome",
            next_attempt_at=sa.case((resend, now), else_=sa.null()),
            updated_at=now,
        )
        .execution_options(synchronize_session=False)
    )
    return int(recovered.rowcount)  # type: ignore[attr-defined]
