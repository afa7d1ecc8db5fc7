"""Recording what a provider call came to, and a provider's later word on it.

``record`` takes a batch of finished sends in one transaction: the common outcome (the
provider accepted the message) is one compare-and-set statement for the whole batch
(``delivery_statements.RECORD_SENT``), plus one for the members of digests and one for the
timeline events; failures, unknown outcomes and retries are rare and go one by one
through ``finish``. Every outcome is a compare-and-set on (status ``sending``, attempt
number): a late or duplicate outcome, or one for a row that recovery has meanwhile turned
``unknown`` (its lease expired), changes nothing.

A delivery's final failure returns its page (and a digest's, its members' pages): the
caller runs ``delivery_tiers.after_final`` on them, which releases the next tier or pages
the operations path.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from tocsin.actions import audit
from tocsin.actions.actors import system_actor
from tocsin.actions.identity import contact_methods
from tocsin.actions.notify import statements
from tocsin.db import driver
from tocsin.db.models.deliveries import Delivery
from tocsin.db.models.incidents import Incident
from tocsin.domain import deliveries as rules
from tocsin.domain.channels import ChannelKind
from tocsin.domain.deliveries import (
    DeliveryStatus,
    ErrorCode,
    Failed,
    Outcome,
    Purpose,
    Sent,
    Unknown,
)

NOTIFIER = system_actor("notifier")


@dataclass(frozen=True)
class Finished:
    """A provider call's outcome for one attempt of a delivery."""

    delivery_id: uuid.UUID
    attempt: int
    kind: ChannelKind
    outcome: Outcome
    provider: str | None
    resend_after_unknown: bool
    # The time of the tick that claimed the attempt: when it was sent, for the record.
    at: datetime


async def record(session: AsyncSession, finished: Sequence[Finished]) -> list[uuid.UUID]:
    """Record a batch of outcomes. Returns the pages whose deliveries became final
    failures (the caller runs ``delivery_tiers.after_final`` on them)."""
    # Between a provider taking a message and this commit, a worker that dies leaves a
    # send its lease recovery repeats: a duplicate. Not waiting for the WAL flush shortens
    # that window, and costs nothing in safety: if the database itself crashes before the
    # flush, the rows are back to "sending" and recovery sends again, a duplicate at
    # worst; a page is never lost this way.
    await session.execute(sa.text("SET LOCAL synchronous_commit = off"))
    accepted = [item for item in finished if isinstance(item.outcome, Sent)]
    final_pages: list[uuid.UUID] = []
    for item in finished:
        if isinstance(item.outcome, Failed | Unknown):
            final_pages += await finish(
                session,
                item.delivery_id,
                item.attempt,
                item.outcome,
                provider=item.provider,
                resend_after_unknown=item.resend_after_unknown,
                now=item.at,
            )
    if accepted:
        await session.flush()  # the ORM's changes above, before statements of our own
        await _record_sent(session, accepted)
    return final_pages


async def _record_sent(session: AsyncSession, accepted: Sequence[Finished]) -> None:
    rows = await driver.execute(
        session,
        statements.RECORD_SENT,
        {
            "rows": statements.records(
                {
                    "id": item.delivery_id,
                    "attempt": item.attempt,
                    "provider": item.provider,
                    "message_id": item.outcome.provider_message_id,
                    "delivered": item.outcome.delivered,
                    "at": item.at,
                }
                for item in accepted
                if isinstance(item.outcome, Sent)
            )
        },
    )
    digests = [row for row in rows if row[1] == Purpose.DIGEST.value]
    members: list[tuple[uuid.UUID, uuid.UUID, uuid.UUID | None]] = []
    if digests:
        members = [
            (digest_id, incident_id, team_id)
            for digest_id, incident_id, team_id in await driver.execute(
                session,
                statements.RECORD_MEMBERS_SENT,
                {
                    "rows": statements.records(
                        {"digest_id": row[0], "status": row[6], "at": row[8]} for row in digests
                    )
                },
            )
        ]
    # The timeline of each incident a mail carried says it was sent.
    events: list[audit.Event] = []
    at = accepted[0].at
    for delivery_id, purpose, incident_id, user_id, kind, attempts, _, provider, _, team_id in rows:
        details: dict[str, object] = {
            "delivery_id": str(delivery_id),
            "user_id": str(user_id),
            "channel": kind,
            "attempts": attempts,
            "provider": provider,
        }
        if purpose == Purpose.PAGE.value and incident_id is not None:
            events.append(audit.Event(incident_id, team_id, details))
        elif purpose == Purpose.DIGEST.value:
            events += [
                audit.Event(member_incident, member_team, {**details, "digest": True})
                for digest_id, member_incident, member_team in members
                if digest_id == delivery_id and member_incident is not None
            ]
    await audit.record_many(
        session,
        actor=NOTIFIER,
        action="notification.sent",
        resource_type="incident",
        now=at,
        events=events,
    )


async def finish(
    session: AsyncSession,
    delivery_id: uuid.UUID,
    attempt: int,
    outcome: Failed | Unknown,
    *,
    provider: str | None,
    resend_after_unknown: bool,
    now: datetime,
) -> list[uuid.UUID]:
    """Record a provider call that did not succeed (failed, or of unknown outcome), row
    by row through the ORM: retried later, failed for good, or left for the provider's
    word. Returns the pages whose deliveries became final failures."""
    delivery = await session.scalar(
        sa.select(Delivery)
        .where(
            Delivery.id == delivery_id,
            Delivery.status == DeliveryStatus.SENDING,
            Delivery.attempts == attempt,
        )
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if delivery is None:
        return []  # recovered meanwhile (lease expired): that path decides
    values: dict[str, object] = {"lease_until": None, "provider": provider}
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
        return await fail(
            session, delivery, ErrorCode.RETRIES_EXHAUSTED, outcome.reason, now, **values
        )
    assert isinstance(outcome, Failed)
    if outcome.disables_method and delivery.contact_method_id is not None:
        await contact_methods.disable(
            session,
            method_id=delivery.contact_method_id,
            reason=f"{provider or delivery.kind.value}: {outcome.detail}",
            now=now,
        )
    if outcome.permanent or last_try:
        code = outcome.code if outcome.permanent else ErrorCode.RETRIES_EXHAUSTED
        return await fail(session, delivery, code, outcome.detail, now, **values)
    retry_in = outcome.retry_after or rules.retry_wait(delivery.attempts)
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


async def fail(
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
    delivery_id: uuid.UUID | None = None,
    code: ErrorCode = ErrorCode.REJECTED,
) -> list[uuid.UUID]:
    """A provider's later word on a message it accepted (a status callback): ``sent``
    becomes ``delivered``, or ``failed`` (a bounce, an undelivered SMS, a call nobody
    answered, with ``code``). Returns the pages whose deliveries became final failures,
    for ``delivery_tiers.after_final``: a late failure releases the next tier like any
    other, once (a repeated callback finds the row final and changes nothing).

    A call's callbacks name their delivery (``delivery_id``, in the URL tocsin gave the
    provider), so they also settle a call whose creation timed out (``unknown``: it may
    have been placed, and a call is never placed twice on a guess)."""
    if delivery_id is not None:
        which = sa.and_(
            Delivery.id == delivery_id,
            Delivery.status.in_(
                [DeliveryStatus.SENT, DeliveryStatus.DELIVERED, DeliveryStatus.UNKNOWN]
            ),
            sa.or_(Delivery.provider == provider, Delivery.provider.is_(None)),
        )
    else:
        which = sa.and_(
            Delivery.provider == provider,
            Delivery.provider_message_id == provider_message_id,
            Delivery.status.in_([DeliveryStatus.SENT, DeliveryStatus.DELIVERED]),
        )
    delivery = await session.scalar(sa.select(Delivery).where(which).with_for_update())
    if delivery is None:
        return []
    if delivered:
        if delivery.status in (DeliveryStatus.SENT, DeliveryStatus.UNKNOWN):
            _set(
                session,
                delivery,
                now,
                status=DeliveryStatus.DELIVERED,
                delivered_at=now,
                sent_at=delivery.sent_at or now,
                provider=provider,
                provider_message_id=delivery.provider_message_id or provider_message_id,
                next_attempt_at=None,
                error_code=None,
                error_detail=None,
            )
            await _members(session, delivery, status=DeliveryStatus.DELIVERED, delivered_at=now)
        return []
    if delivery.status is DeliveryStatus.DELIVERED and delivery_id is not None:
        return []  # a call someone answered stays answered, however it ended
    return await fail(
        session,
        delivery,
        code,
        error or f"{provider} reported a failure",
        now,
        provider=provider,
        provider_message_id=delivery.provider_message_id or provider_message_id,
    )
