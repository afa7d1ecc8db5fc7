"""Inviting a person: a mail with a one-time sign-in link, to the address of their account.

The link is an ordinary login link (``logins.issue_login_link``: stored as a digest,
single-use by one conditional UPDATE, expiring), so signing in from an invitation is the
same path as from a link an admin hands out. The mail is a queued delivery of purpose
``invitation`` to the account's email method, sent by the engine like every other mail
(through SMTP, or into the local outbox): it commits with the user it invites, and the
link in plain text leaves the delivery's details once it is sent.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from tocsin.actions import audit
from tocsin.actions.actors import Actor
from tocsin.actions.identity import logins
from tocsin.actions.wake import wake_engine
from tocsin.db.models.contact_methods import ContactMethod
from tocsin.db.models.deliveries import Delivery
from tocsin.db.models.users import User
from tocsin.domain.access import Action, authorize
from tocsin.domain.channels import ChannelKind
from tocsin.domain.deliveries import DeliveryStatus, Purpose
from tocsin.errors import InvalidInput, NotFound


@dataclass(frozen=True)
class Invitation:
    address: str
    expires_at: datetime


async def invite(
    session: AsyncSession,
    *,
    actor: Actor,
    user_id: uuid.UUID,
    base_url: str,
    ttl: timedelta,
    now: datetime,
) -> Invitation:
    """Queue the invitation mail; a resend issues a new link (the older one still works
    until it expires or is used: a person may click whichever mail they open first)."""
    authorize(actor.principal, Action.MANAGE_USERS)
    user = await session.get(User, user_id)
    if user is None:
        raise NotFound("user", user_id)
    method = await _account_email(session, user)
    token = await logins.issue_login_link(session, actor=actor, user_id=user.id, ttl=ttl, now=now)
    expires_at = now + ttl
    session.add(
        Delivery(
            id=uuid.uuid4(),
            purpose=Purpose.INVITATION,
            user_id=user.id,
            contact_method_id=method.id,
            kind=ChannelKind.EMAIL,
            tier=0,
            status=DeliveryStatus.QUEUED,
            next_attempt_at=now,
            attempts=0,
            details={
                "sign_in_url": logins.login_link_url(base_url, token),
                "expires_at": expires_at.isoformat(),
                "by": await _name_of(session, actor),
            },
            created_at=now,
            updated_at=now,
        )
    )
    await session.flush()
    await audit.record(
        session,
        actor=actor,
        action="user.invited",
        resource_type="user",
        resource_id=user.id,
        now=now,
        details={"expires_at": expires_at.isoformat()},
    )
    await wake_engine(session, "deliveries")
    return Invitation(method.address, expires_at)


async def _name_of(session: AsyncSession, actor: Actor) -> str:
    inviter = await session.get(User, actor.user_id) if actor.user_id else None
    return inviter.name if inviter else "An administrator"


async def _account_email(session: AsyncSession, user: User) -> ContactMethod:
    """The account's own address (provisioned with the user), else a verified email."""
    methods = (
        await session.scalars(
            sa.select(ContactMethod)
            .where(
                ContactMethod.user_id == user.id,
                ContactMethod.kind == ChannelKind.EMAIL,
                ContactMethod.verified_at.is_not(None),
            )
            .order_by((ContactMethod.address == user.email).desc(), ContactMethod.created_at)
            .limit(1)
        )
    ).all()
    if not methods:
        raise InvalidInput("email", f"{user.name} has no verified email address to invite")
    return methods[0]
