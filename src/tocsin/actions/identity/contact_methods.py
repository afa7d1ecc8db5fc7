"""Contact methods: adding, verifying and removing the ways a person is reached.

People manage their own; platform admins anyone's. A method is usable for pages only once
verified: an email address by a link mailed to it, a phone number (SMS, voice) or an
ntfy topic by a 6-digit code sent to it, valid 15 minutes, at most 5 tries, one new code
a minute. The account's own email address is verified when the account is created: it is the address
the admin vouched for, and a new person must be reachable from the first minute (the
original left new users with no way to be paged at all).
"""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Collection
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from tocsin.actions import audit
from tocsin.actions.actors import Actor, system_actor
from tocsin.actions.wake import wake_engine
from tocsin.db.constraints import flush_unique
from tocsin.db.models.contact_methods import (
    ContactMethod,
    ContactVerification,
    NotificationRule,
    NotificationSetting,
)
from tocsin.db.models.deliveries import Delivery
from tocsin.db.models.users import User
from tocsin.domain import addresses, identity, notification_rules
from tocsin.domain.access import Action, authorize
from tocsin.domain.channels import ChannelKind
from tocsin.domain.deliveries import DeliveryStatus, Purpose
from tocsin.errors import Conflict, InvalidInput, NotFound, RateLimited
from tocsin.security import tokens

CODE_TTL = timedelta(minutes=15)
RESEND_AFTER = timedelta(minutes=1)
MAX_TRIES = 5
# Kinds added here by address; Slack and Teams are linked by their OAuth flows, push by
# the browser's subscription.
ADDRESSED = (ChannelKind.EMAIL, ChannelKind.SMS, ChannelKind.VOICE, ChannelKind.NTFY)


def authorize_owner(actor: Actor, user_id: uuid.UUID) -> None:
    if actor.user_id != user_id:
        authorize(actor.principal, Action.MANAGE_USERS)


async def authorize_user(session: AsyncSession, actor: Actor, user_id: uuid.UUID) -> None:
    """``authorize_owner``, and a 404 for a person who does not exist, before anything is
    read or written for them (people are deactivated, never deleted, so the answer holds
    until commit)."""
    authorize_owner(actor, user_id)
    if await session.get(User, user_id) is None:
        raise NotFound("user", user_id)


async def provision_defaults(session: AsyncSession, user: User, *, now: datetime) -> None:
    """A new person's account email (verified) and the default rules."""
    session.add(
        ContactMethod(
            id=uuid.uuid4(),
            user_id=user.id,
            kind=ChannelKind.EMAIL,
            label="account email",
            address=user.email,
            details={},
            verified_at=now,
            created_at=now,
            updated_at=now,
        )
    )
    await session.execute(
        insert(NotificationRule).values(
            [
                {
                    "id": uuid.uuid4(),
                    "user_id": user.id,
                    "urgency": rule.urgency,
                    "kind": rule.kind,
                    "delay_minutes": rule.delay_minutes,
                    "created_at": now,
                }
                for rule in notification_rules.DEFAULT_RULES
            ]
        )
    )


async def follow_account_email(
    session: AsyncSession, *, actor: Actor, user: User, previous: str, now: datetime
) -> None:
    """The account's email changed (platform admins only): the method at the previous
    address moves to the new one, verified as the account's own address is at creation
    (the admin vouches for it), so pages follow the person instead of going on to an
    address that is no longer theirs. If the person already had a method at the new
    address, that one is verified and the previous one goes."""
    moved = await session.scalar(
        sa.select(ContactMethod)
        .where(
            ContactMethod.user_id == user.id,
            ContactMethod.kind == ChannelKind.EMAIL,
            ContactMethod.address == previous,
        )
        .with_for_update()
    )
    if moved is None:
        return  # the person removed it: nothing follows
    already = await session.scalar(
        sa.select(ContactMethod)
        .where(
            ContactMethod.user_id == user.id,
            ContactMethod.kind == ChannelKind.EMAIL,
            ContactMethod.address == user.email,
        )
        .with_for_update()
    )
    if already is not None:
        await session.delete(moved)
        moved = already
    moved.address = user.email
    moved.verified_at = moved.verified_at or now
    moved.updated_at = now
    await session.execute(
        sa.delete(ContactVerification).where(ContactVerification.contact_method_id == moved.id)
    )
    await session.flush()
    await _audit(session, actor, "contact_method.followed_account_email", moved, now)


async def opted_in_methods(
    session: AsyncSession,
    *,
    users: Collection[uuid.UUID] | sa.Select[uuid.UUID],
    opt_in: InstrumentedAttribute[bool],
    kinds: Collection[ChannelKind],
) -> list[ContactMethod]:
    """The verified, enabled methods of ``kinds`` of the active people among ``users``
    who opted in (``opt_in``: a ``NotificationSetting`` column): where notices beyond
    pages (status changes, shift starts) go."""
    return list(
        (
            await session.scalars(
                sa.select(ContactMethod)
                .join(NotificationSetting, NotificationSetting.user_id == ContactMethod.user_id)
                .join(User, User.id == ContactMethod.user_id)
                .where(
                    ContactMethod.user_id.in_(users),
                    opt_in.is_(True),
                    User.is_active.is_(True),
                    ContactMethod.kind.in_(list(kinds)),
                    ContactMethod.verified_at.is_not(None),
                    ContactMethod.disabled_at.is_(None),
                )
            )
        ).all()
    )


async def disable(
    session: AsyncSession, *, method_id: uuid.UUID, reason: str, now: datetime
) -> bool:
    """The provider says this method is gone (a revoked Slack token, a push subscription
    answered 410, an SMS STOP): stop paging it, say why where its owner and their team
    admins look (the method's page, ``/notification-warnings``). A conditional UPDATE:
    False when it was already disabled, so the reason first given stays."""
    method = await session.scalar(
        sa.update(ContactMethod)
        .where(ContactMethod.id == method_id, ContactMethod.disabled_at.is_(None))
        .values(disabled_at=now, disabled_reason=reason[:300], updated_at=now)
        .returning(ContactMethod)
    )
    if method is None:
        return False
    await _audit(session, system_actor("notifier"), "contact_method.disabled", method, now)
    return True


async def enable(session: AsyncSession, *, method_id: uuid.UUID, now: datetime) -> bool:
    """The person asked to be reached there again (an SMS START, a reconnected Slack)."""
    method = await session.scalar(
        sa.update(ContactMethod)
        .where(ContactMethod.id == method_id, ContactMethod.disabled_at.is_not(None))
        .values(disabled_at=None, disabled_reason=None, updated_at=now)
        .returning(ContactMethod)
    )
    if method is None:
        return False
    await _audit(session, system_actor("notifier"), "contact_method.enabled", method, now)
    return True


async def list_methods(
    session: AsyncSession, *, actor: Actor, user_id: uuid.UUID
) -> list[ContactMethod]:
    await authorize_user(session, actor, user_id)
    return list(
        (
            await session.scalars(
                sa.select(ContactMethod)
                .where(ContactMethod.user_id == user_id)
                .order_by(ContactMethod.kind, ContactMethod.created_at)
            )
        ).all()
    )


async def add_method(
    session: AsyncSession,
    *,
    actor: Actor,
    user_id: uuid.UUID,
    kind: ChannelKind,
    address: str,
    label: str,
    base_url: str,
    now: datetime,
    details: dict[str, Any] | None = None,
    allow_private: bool = False,
) -> ContactMethod:
    """Add an unverified method and send its verification (``details``: what it keeps
    beside its address, an ntfy topic's encrypted access token)."""
    await authorize_user(session, actor, user_id)
    if kind not in ADDRESSED:
        raise InvalidInput("kind", f"{kind.value} is connected from its own page, not by address")
    if kind is ChannelKind.EMAIL:
        normalised = identity.normalise_email(address, field="address")
    elif kind is ChannelKind.NTFY:
        normalised = addresses.ntfy_topic_url(address, allow_private=allow_private)
    else:
        normalised = identity.normalise_phone(address, field="address")
    method = ContactMethod(
        id=uuid.uuid4(),
        user_id=user_id,
        kind=kind,
        label=label.strip()[:100],
        address=normalised,
        details=details or {},
        created_at=now,
        updated_at=now,
    )
    session.add(method)
    await flush_unique(
        session,
        resource="contact method",
        fields={"uq_contact_method_user_id_kind_address": ("address", normalised)},
    )
    await _send_verification(session, method, base_url=base_url, now=now)
    await _audit(session, actor, "contact_method.added", method, now)
    return method


async def connect(
    session: AsyncSession,
    *,
    actor: Actor,
    user_id: uuid.UUID,
    kind: ChannelKind,
    address: str,
    label: str,
    details: dict[str, Any],
    now: datetime,
    audit_as: str = "contact_method.connected",
    audit_details: dict[str, Any] | None = None,
) -> ContactMethod:
    """A method its channel proved is the person's (a Slack account linked from Slack, a
    push subscription made in their signed-in browser): verified at once. Connecting it
    again updates what it keeps and enables it again (a revoked token, an expired
    subscription)."""
    authorize_owner(actor, user_id)
    await session.execute(
        insert(ContactMethod)
        .values(
            id=uuid.uuid4(),
            user_id=user_id,
            kind=kind,
            label=label[:100],
            address=address,
            details=details,
            verified_at=now,
            created_at=now,
            updated_at=now,
        )
        .on_conflict_do_update(
            index_elements=["user_id", "kind", "address"],
            set_={
                "label": label[:100],
                "details": details,
                "disabled_at": None,
                "disabled_reason": None,
                "verified_at": now,
                "updated_at": now,
            },
        )
    )
    method = await session.scalar(
        sa.select(ContactMethod)
        .where(
            ContactMethod.user_id == user_id,
            ContactMethod.kind == kind,
            ContactMethod.address == address,
        )
        .execution_options(populate_existing=True)
    )
    assert method is not None
    extra = {"contact_method_id": str(method.id), **(audit_details or {})}
    await _audit(session, actor, audit_as, method, now, extra=extra)
    return method


async def linked_user(session: AsyncSession, *, kind: ChannelKind, address: str) -> User | None:
    """The active person whose verified method of ``kind`` is ``address``: whom a press
    in a chat app acts as (a Slack or Teams account is linked to one person)."""
    return await session.scalar(
        sa.select(User)
        .join(ContactMethod, ContactMethod.user_id == User.id)
        .where(
            ContactMethod.kind == kind,
            ContactMethod.address == address,
            ContactMethod.verified_at.is_not(None),
            User.is_active.is_(True),
        )
        .limit(1)
    )


async def resend_verification(
    session: AsyncSession,
    *,
    actor: Actor,
    method_id: uuid.UUID,
    base_url: str,
    now: datetime,
) -> ContactMethod:
    method = await _method(session, actor, method_id)
    if method.verified_at is not None:
        raise Conflict("this contact method is already verified", field="id")
    # Resends of one method, from any process, one at a time until commit: otherwise two
    # at once both pass the once-a-minute check and both send (or the second fails on the
    # one-pending-verification key). The read below starts after the wait, so it sees
    # the verification the first one sent. An advisory lock, not the method's row: a code
    # being checked locks the verification and then the method.
    await session.execute(
        sa.select(sa.func.pg_advisory_xact_lock(sa.func.hashtext(f"verification:{method.id}")))
    )
    pending = await session.scalar(
        sa.select(ContactVerification).where(ContactVerification.contact_method_id == method.id)
    )
    if pending is not None and now < pending.sent_at + RESEND_AFTER:
        wait = int((pending.sent_at + RESEND_AFTER - now).total_seconds()) + 1
        raise RateLimited("a new code can be sent once a minute", retry_after=wait)
    await _send_verification(session, method, base_url=base_url, now=now)
    return method


async def verify_code(
    session: AsyncSession, *, actor: Actor, method_id: uuid.UUID, code: str, now: datetime
) -> ContactMethod | str:
    """The verified method, or why the code was refused. A refusal is returned, not
    raised, so that the caller commits the counted try: raising would roll it back and
    make the five-try limit a fiction."""
    method = await _method(session, actor, method_id)
    if method.verified_at is not None:
        return method
    pending = await session.scalar(
        sa.select(ContactVerification)
        .where(ContactVerification.contact_method_id == method.id)
        .with_for_update()
    )
    if pending is None or pending.expires_at <= now:
        return "the code has expired: ask for a new one"
    if pending.attempts >= MAX_TRIES:
        return "too many wrong codes: ask for a new one"
    if not secrets.compare_digest(pending.secret_hash, _code_hash(method.id, code.strip())):
        pending.attempts += 1
        await session.flush()
        return f"wrong code ({MAX_TRIES - pending.attempts} tries left)"
    return await _verified(session, actor, method, pending, now)


async def verify_link(
    session: AsyncSession, *, actor: Actor, token: str, now: datetime
) -> ContactMethod:
    """Confirm an email address with the token of the link mailed to it."""
    pending = await session.scalar(
        sa.select(ContactVerification)
        .where(ContactVerification.secret_hash == tokens.digest(token))
        .with_for_update()
    )
    if pending is None or pending.expires_at <= now:
        raise NotFound("verification link", "(expired or unknown)")
    method = await session.get(ContactMethod, pending.contact_method_id)
    assert method is not None
    authorize_owner(actor, method.user_id)
    return await _verified(session, actor, method, pending, now)


async def remove_method(
    session: AsyncSession, *, actor: Actor, method_id: uuid.UUID, now: datetime
) -> None:
    method = await _method(session, actor, method_id)
    await session.delete(method)
    await _audit(session, actor, "contact_method.removed", method, now)


async def _verified(
    session: AsyncSession,
    actor: Actor,
    method: ContactMethod,
    pending: ContactVerification,
    now: datetime,
) -> ContactMethod:
    method.verified_at = now
    method.updated_at = now
    await session.delete(pending)
    await session.flush()
    await _audit(session, actor, "contact_method.verified", method, now)
    return method


async def _send_verification(
    session: AsyncSession, method: ContactMethod, *, base_url: str, now: datetime
) -> None:
    """Replace any pending verification and queue the message that carries the new one.

    An email carries a link (its token is stored only as a digest); a phone gets a code,
    which the queued delivery must still say, so the plaintext code travels in the
    delivery's details only until it is sent.
    """
    await session.execute(
        sa.delete(ContactVerification).where(ContactVerification.contact_method_id == method.id)
    )
    details: dict[str, str] = {}
    if method.kind is ChannelKind.EMAIL:
        token = tokens.new_token()
        secret_hash = tokens.digest(token)
        details["verification_url"] = f"{base_url}/verify/{token}"
    else:
        code = f"{secrets.randbelow(900_000) + 100_000}"
        secret_hash = _code_hash(method.id, code)
        details["code"] = code
    session.add(
        ContactVerification(
            id=uuid.uuid4(),
            contact_method_id=method.id,
            secret_hash=secret_hash,
            attempts=0,
            sent_at=now,
            expires_at=now + CODE_TTL,
        )
    )
    session.add(
        Delivery(
            id=uuid.uuid4(),
            purpose=Purpose.VERIFICATION,
            user_id=method.user_id,
            contact_method_id=method.id,
            kind=method.kind,
            tier=0,
            status=DeliveryStatus.QUEUED,
            next_attempt_at=now,
            attempts=0,
            details=details,
            created_at=now,
            updated_at=now,
        )
    )
    await session.flush()
    await wake_engine(session, "deliveries")


def _code_hash(method_id: uuid.UUID, code: str) -> str:
    # Bound to the method, so one digest cannot be matched against another method's code.
    return tokens.digest(f"{method_id}:{code}")


async def _method(session: AsyncSession, actor: Actor, method_id: uuid.UUID) -> ContactMethod:
    method = await session.get(ContactMethod, method_id)
    if method is None:
        raise NotFound("contact method", method_id)
    authorize_owner(actor, method.user_id)
    return method


async def _audit(
    session: AsyncSession,
    actor: Actor,
    action: str,
    method: ContactMethod,
    now: datetime,
    *,
    extra: dict[str, Any] | None = None,
) -> None:
    await audit.record(
        session,
        actor=actor,
        action=action,
        resource_type="user",
        resource_id=method.user_id,
        now=now,
        details={"kind": method.kind.value, "address": _masked(method), **(extra or {})},
    )


def _masked(method: ContactMethod) -> str:
    address = method.address
    if method.kind is ChannelKind.EMAIL:
        name, _, domain = address.partition("@")
        return f"{name[:2]}…@{domain}"
    return f"…{address[-4:]}"
