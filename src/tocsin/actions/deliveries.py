"""The life of a delivery around a provider call: prepare, finish, recover, cancel.

The send protocol (``engine/deliveries.py`` drives it):

1. ``prepare``, in the transaction that claimed the due row (``FOR UPDATE SKIP LOCKED``):
   check the incident is still triggered (else cancel), the service is not in maintenance
   (else hold until the window ends), the method is usable and not rate limited (else
   bundle into the method's digest); then mark it ``sending`` with a lease and mint its
   links. The claim commits before any provider is called.
2. The provider is called outside any transaction, with a timeout.
3. ``finish`` records the outcome with a compare-and-set on (status ``sending``, attempt
   number): a late or duplicate outcome changes nothing.

If the process dies during 2, the lease expires and ``recover_expired`` turns the row
``unknown``: the channel decides whether it may be sent again (email: yes, with the same
Message-ID) or must wait for the provider's word (voice: never dial blindly).
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from tocsin.actions import audit, delivery_tiers, dispatch, notices
from tocsin.actions.actors import system_actor
from tocsin.db.models.contact_methods import ContactMethod
from tocsin.db.models.deliveries import Delivery
from tocsin.db.models.incidents import Incident
from tocsin.domain import deliveries as rules
from tocsin.domain.channels import RATE_LIMITS, ChannelKind
from tocsin.domain.deliveries import (
    DeliveryStatus,
    ErrorCode,
    Failed,
    Outcome,
    Purpose,
    Sent,
    Unknown,
)
from tocsin.domain.incidents import IncidentStatus
from tocsin.domain.notices import Notice

NOTIFIER = system_actor("notifier")


@dataclass(frozen=True)
class SendPolicy:
    deliverable: frozenset[ChannelKind]
    links: notices.LinkPolicy
    lease: timedelta
    ops: delivery_tiers.OpsPolicy


@dataclass(frozen=True)
class Prepared:
    delivery_id: uuid.UUID
    attempt: int
    kind: ChannelKind
    notice: Notice


@dataclass
class Prepare:
    """What ``prepare`` decided for a claimed row."""

    prepared: Prepared | None = None
    final_pages: list[uuid.UUID] = field(default_factory=list)


async def prepare(
    session: AsyncSession,
    delivery: Delivery,
    *,
    policy: SendPolicy,
    now: datetime,
    maintenance_until: Callable[[uuid.UUID], Awaitable[datetime | None]],
) -> Prepare:
    result = Prepare()
    if delivery.purpose in (Purpose.PAGE, Purpose.DIGEST):
        if delivery.purpose is Purpose.PAGE:
            incident = await session.get(Incident, delivery.incident_id)
            if incident is None or incident.status is not IncidentStatus.TRIGGERED:
                _set(session, delivery, now, status=DeliveryStatus.CANCELLED, cancelled_at=now)
                return result
            until = await maintenance_until(incident.service_id)
            if until is not None:
                _set(session, delivery, now, status=DeliveryStatus.HELD, next_attempt_at=until)
                return result
        elif not await notices.bundled_incidents(session, delivery.id):
            _set(session, delivery, now, status=DeliveryStatus.CANCELLED, cancelled_at=now)
            return result
    method = (
        await session.get(ContactMethod, delivery.contact_method_id)
        if delivery.contact_method_id
        else None
    )
    problem = _unusable(delivery, method, policy)
    if problem is not None:
        code, detail = problem
        result.final_pages = await _fail(session, delivery, code, detail, now)
        return result
    assert method is not None
    limited_until = await _rate_limited(session, method, now)
    if limited_until is not None:
        if delivery.purpose is Purpose.PAGE:
            digest_id = await dispatch.join_digest(
                session,
                user_id=delivery.user_id,
                method_id=method.id,
                kind=method.kind,
                due=limited_until,
                now=now,
            )
            _set(
                session,
                delivery,
                now,
                status=DeliveryStatus.BUNDLED,
                next_attempt_at=None,
                digest_id=digest_id,
            )
        else:
            _set(session, delivery, now, next_attempt_at=limited_until)
        return result
    attempt = delivery.attempts + 1
    _set(
        session,
        delivery,
        now,
        status=DeliveryStatus.SENDING,
        attempts=attempt,
        next_attempt_at=None,
        lease_until=now + policy.lease,
        first_attempt_at=delivery.first_attempt_at or now,
        last_attempt_at=now,
    )
    notice = await notices.build(session, delivery, policy=policy.links, now=now)
    result.prepared = Prepared(delivery.id, attempt, delivery.kind, notice)
    return result


async def finish(
    session: AsyncSession,
    prepared: Prepared,
    outcome: Outcome,
    *,
    provider: str | None,
    resend_after_unknown: bool,
    now: datetime,
) -> list[uuid.UUID]:
    """Record a provider call's outcome. Returns the pages whose deliveries became final
    failures (the caller runs ``delivery_tiers.after_final`` on them)."""
    delivery = await session.scalar(
        sa.select(Delivery)
        .where(
            Delivery.id == prepared.delivery_id,
            Delivery.status == DeliveryStatus.SENDING,
            Delivery.attempts == prepared.attempt,
        )
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if delivery is None:
        return []  # recovered meanwhile (lease expired): that path decides
    values: dict[str, object] = {"lease_until": None, "provider": provider}
    if isinstance(outcome, Sent):
        status = DeliveryStatus.DELIVERED if outcome.delivered else DeliveryStatus.SENT
        _set(
            session,
            delivery,
            now,
            **values,
            status=status,
            sent_at=now,
            delivered_at=now if outcome.delivered else None,
            provider_message_id=outcome.provider_message_id[:512],
            error_code=None,
            error_detail=None,
        )
        await _members(session, delivery, status=status, sent_at=now)
        await _note(session, delivery, "notification.sent", now, {"provider": provider})
        return []
    last_try = delivery.attempts >= rules.MAX_ATTEMPTS
    if isinstance(outcome, Unknown):
        values |= {"error_code": ErrorCode.TIMEOUT.value, "error_detail": outcome.reason[:1000]}
        if not resend_after_unknown:
            _set(session, delivery, now, **values, status=DeliveryStatus.UNKNOWN)
            await _note(session, delivery, "notification.unknown", now, {"reason": outcome.reason})
            return []
        if not last_try:
            wait = rules.retry_wait(delivery.attempts) or timedelta(0)
            _set(
                session,
                delivery,
                now,
                **values,
                status=DeliveryStatus.UNKNOWN,
                next_attempt_at=now + wait,
            )
            return []
        return await _fail(
            session, delivery, ErrorCode.RETRIES_EXHAUSTED, outcome.reason, now, **values
        )
    assert isinstance(outcome, Failed)
    if outcome.permanent or last_try:
        code = outcome.code if outcome.permanent else ErrorCode.RETRIES_EXHAUSTED
        return await _fail(session, delivery, code, outcome.detail, now, **values)
    retry_in = rules.retry_wait(delivery.attempts)
    assert retry_in is not None
    _set(
        session,
        delivery,
        now,
        **values,
        status=DeliveryStatus.QUEUED,
        next_attempt_at=now + retry_in,
        error_code=outcome.code.value,
        error_detail=outcome.detail[:1000],
    )
    return []


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


def _unusable(
    delivery: Delivery, method: ContactMethod | None, policy: SendPolicy
) -> tuple[ErrorCode, str] | None:
    if method is None or method.disabled_at is not None:
        return ErrorCode.UNVERIFIED, "the contact method was removed or disabled"
    if method.verified_at is None and delivery.purpose is not Purpose.VERIFICATION:
        return ErrorCode.UNVERIFIED, "the contact method is not verified"
    if delivery.kind not in policy.deliverable:
        return ErrorCode.NOT_DELIVERABLE, f"no {delivery.kind.value} provider is configured"
    return None


async def _rate_limited(
    session: AsyncSession, method: ContactMethod, now: datetime
) -> datetime | None:
    """When the method may next be sent to, if its rate limit is reached now."""
    limit = RATE_LIMITS.get(method.kind)
    if limit is None:
        return None
    count, window = limit
    recent = (
        await session.scalars(
            sa.select(Delivery.sent_at)
            .where(Delivery.contact_method_id == method.id, Delivery.sent_at > now - window)
            .order_by(Delivery.sent_at)
        )
    ).all()
    if len(recent) < count:
        return None
    oldest = recent[len(recent) - count]
    assert oldest is not None
    return oldest + window


async def _fail(
    session: AsyncSession,
    delivery: Delivery,
    code: ErrorCode,
    detail: str,
    now: datetime,
    **values: object,
) -> list[uuid.UUID]:
    values |= {
        "status": DeliveryStatus.FAILED,
        "failed_at": now,
        "next_attempt_at": None,
        "lease_until": None,
        "error_code": code.value,
        "error_detail": detail[:1000],
    }
    _set(session, delivery, now, **values)
    pages = await _members(session, delivery, status=DeliveryStatus.FAILED, failed_at=now)
    await _note(
        session, delivery, "notification.failed", now, {"error": code.value, "detail": detail[:300]}
    )
    return [*pages, *([delivery.page_id] if delivery.page_id else [])]


async def _members(session: AsyncSession, delivery: Delivery, **values: object) -> list[uuid.UUID]:
    """A digest's outcome is its members' outcome. Returns the members' pages."""
    if delivery.purpose is not Purpose.DIGEST:
        return []
    pages = await session.scalars(
        sa.update(Delivery)
        .where(Delivery.digest_id == delivery.id, Delivery.status == DeliveryStatus.BUNDLED)
        .values(**values, updated_at=next(v for k, v in values.items() if k.endswith("_at")))
        .returning(Delivery.page_id)
        .execution_options(synchronize_session=False)
    )
    return [page for page in pages.all() if page is not None]


def _set(session: AsyncSession, delivery: Delivery, now: datetime, **values: object) -> None:
    # No flush here: the unit of work writes the row once, at the next query or commit.
    for key, value in values.items():
        setattr(delivery, key, value)
    delivery.updated_at = now


async def _note(
    session: AsyncSession,
    delivery: Delivery,
    action: str,
    now: datetime,
    details: dict[str, object],
) -> None:
    """The timeline of each incident the delivery carried says what happened to it."""
    incident_ids: list[uuid.UUID] = []
    if delivery.incident_id is not None:
        incident_ids = [delivery.incident_id]
    elif delivery.purpose is Purpose.DIGEST:
        incident_ids = [
            i
            for i in (
                await session.scalars(
                    sa.select(Delivery.incident_id).where(Delivery.digest_id == delivery.id)
                )
            ).all()
            if i is not None
        ]
    if not incident_ids or delivery.purpose not in (Purpose.PAGE, Purpose.DIGEST):
        return
    teams = dict(
        (
            await session.execute(
                sa.select(Incident.id, Incident.team_id).where(Incident.id.in_(incident_ids))
            )
        ).all()
    )
    for incident_id in incident_ids:
        await audit.record(
            session,
            actor=NOTIFIER,
            action=action,
            resource_type="incident",
            resource_id=incident_id,
            team_id=teams.get(incident_id),
            now=now,
            details={
                "delivery_id": str(delivery.id),
                "user_id": str(delivery.user_id),
                "channel": delivery.kind.value,
                "attempts": delivery.attempts,
                **({"digest": True} if delivery.purpose is Purpose.DIGEST else {}),
                **details,
            },
        )


async def apply_status(
    session: AsyncSession,
    *,
    provider: str,
    provider_message_id: str,
    delivered: bool,
    error: str | None,
    now: datetime,
) -> list[uuid.UUID]:
    """A provider's later word on a message it accepted (a status callback): ``sent``
    becomes ``delivered``, or ``failed`` (a bounce, an undelivered SMS). Returns the pages
    whose deliveries became final failures, for ``delivery_tiers.after_final``: a late
    failure releases the next tier like any other."""
    delivery = await session.scalar(
        sa.select(Delivery)
        .where(
            Delivery.provider == provider,
            Delivery.provider_message_id == provider_message_id,
            Delivery.status.in_([DeliveryStatus.SENT, DeliveryStatus.DELIVERED]),
        )
        .with_for_update()
    )
    if delivery is None:
        return []
    if delivered:
        if delivery.status is DeliveryStatus.SENT:
            _set(session, delivery, now, status=DeliveryStatus.DELIVERED, delivered_at=now)
            await _members(session, delivery, status=DeliveryStatus.DELIVERED, delivered_at=now)
        return []
    return await _fail(
        session, delivery, ErrorCode.REJECTED, error or f"{provider} reported a failure", now
    )
