"""Signing in and out of the pages: passwords, one-time login links, browser sessions.

A session token lives only in the browser's cookie; the database keeps its SHA-256. A
session ends after ``idle`` without use or ``max_age`` after login, whichever comes first.

Failed logins are recorded in ``login_attempt`` and counted per account and per address
(``domain.login_limits``), so the limits hold for the whole deployment, however many
processes serve the pages. Attempts for one account, and attempts from one address, are
serialised with advisory locks held until the attempt is committed, so a burst of parallel
guesses (one account guessed at, or a spray over many accounts from one address) is
counted one by one instead of all passing the check before any failure is written.
"""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from tocsin.actions import audit
from tocsin.actions.actors import Actor
from tocsin.db.models.users import User
from tocsin.db.models.web_sessions import LoginAttempt, LoginLink, WebSession
from tocsin.domain import identity, login_limits
from tocsin.domain.access import Action, Principal, PrincipalKind, authorize
from tocsin.errors import InvalidInput, NotFound, RateLimited
from tocsin.security import passwords, tokens

# Sessions are marked as used at most this often, not on every request.
LAST_SEEN_RESOLUTION = timedelta(minutes=1)


@dataclass(frozen=True)
class SessionPolicy:
    idle: timedelta
    max_age: timedelta


@dataclass(frozen=True)
class LoginOutcome:
    """``token`` is set when the login succeeded. A failure is returned, not raised, so the
    caller commits the recorded failure before answering."""

    user: User | None
    token: str | None


async def login_with_password(
    session: AsyncSession,
    *,
    email: str,
    password: str,
    ip_address: str | None,
    user_agent: str | None,
    limits: login_limits.LoginLimits,
    policy: SessionPolicy,
    now: datetime,
) -> LoginOutcome:
    try:
        address = identity.normalise_email(email)
    except InvalidInput:
        address = email.strip().lower()[:320]
    # The account first, then the address, in every attempt: a transaction holding an
    # address lock never waits for an account lock, so the two cannot deadlock. Both are
    # held through the password check (the failure is written after it), which makes an
    # address's attempts one at a time; a whole office behind one NAT still signs in at
    # the speed of argon2, tens a second.
    await session.execute(
        sa.select(sa.func.pg_advisory_xact_lock(sa.func.hashtext("login:" + address)))
    )
    if ip_address:
        await session.execute(
            sa.select(sa.func.pg_advisory_xact_lock(sa.func.hashtext("login-ip:" + ip_address)))
        )
    await _refuse_if_throttled(session, address, ip_address, limits, now)
    user = await session.scalar(sa.select(User).where(User.email == address))
    # Always verify (against a dummy hash when there is no such user) so the answer takes
    # as long whether or not the account exists. argon2 is CPU-bound: keep it off the loop.
    valid = await asyncio.to_thread(
        passwords.verify_password, user.password_hash if user else None, password
    )
    succeeded = valid and user is not None and user.is_active
    session.add(
        LoginAttempt(email=address, ip_address=ip_address, attempted_at=now, succeeded=succeeded)
    )
    actor = Actor(_anonymous(address), ip_address=ip_address, user_agent=user_agent)
    if not succeeded or user is None:
        await audit.record(
            session,
            actor=actor,
            action="session.login_failed",
            resource_type="user",
            resource_id=user.id if user else None,
            now=now,
            details={"email": address},
        )
        return LoginOutcome(None, None)
    if passwords.needs_rehash(user.password_hash or ""):
        user.password_hash = await asyncio.to_thread(passwords.hash_password, password)
    token = await _open_session(session, user, ip_address, user_agent, policy, now)
    await audit.record(
        session,
        actor=Actor(_user(user), ip_address, user_agent),
        action="session.login",
        resource_type="user",
        resource_id=user.id,
        now=now,
        details={"method": "password"},
    )
    return LoginOutcome(user, token)


async def issue_login_link(
    session: AsyncSession, *, actor: Actor, user_id: uuid.UUID, ttl: timedelta, now: datetime
) -> str:
    """A single-use link that signs ``user_id`` in, for first start and for people without
    a password. Only platform admins (or the operator at the console) can issue one."""
    authorize(actor.principal, Action.MANAGE_USERS)
    user = await session.get(User, user_id)
    if user is None:
        raise NotFound("user", user_id)
    if not user.is_active:
        raise InvalidInput("user_id", f"{user.email} is deactivated")
    token = tokens.new_token()
    session.add(
        LoginLink(
            token_hash=tokens.digest(token), user_id=user.id, created_at=now, expires_at=now + ttl
        )
    )
    await session.flush()
    await audit.record(
        session,
        actor=actor,
        action="login_link.issued",
        resource_type="user",
        resource_id=user.id,
        now=now,
        details={"expires_at": (now + ttl).isoformat()},
    )
    return token


def login_link_url(base_url: str, token: str) -> str:
    """Where a one-time login link's ``token`` is redeemed (the sign-in page's route)."""
    return f"{base_url}/login/link/{token}"


async def redeem_login_link(
    session: AsyncSession,
    *,
    token: str,
    ip_address: str | None,
    user_agent: str | None,
    policy: SessionPolicy,
    now: datetime,
) -> LoginOutcome:
    # Consuming the link is one conditional UPDATE: of two clicks, exactly one gets a row.
    user_id = await session.scalar(
        sa.update(LoginLink)
        .where(
            LoginLink.token_hash == tokens.digest(token),
            LoginLink.used_at.is_(None),
            LoginLink.expires_at > now,
        )
        .values(used_at=now)
        .returning(LoginLink.user_id)
    )
    user = await session.get(User, user_id) if user_id else None
    if user is None or not user.is_active:
        return LoginOutcome(None, None)
    session_token = await _open_session(session, user, ip_address, user_agent, policy, now)
    await audit.record(
        session,
        actor=Actor(_user(user), ip_address, user_agent),
        action="session.login",
        resource_type="user",
        resource_id=user.id,
        now=now,
        details={"method": "login_link"},
    )
    return LoginOutcome(user, session_token)


async def peek_login_link(session: AsyncSession, *, token: str, now: datetime) -> User | None:
    """The user a still-valid link would sign in, without using it (for the confirm page)."""
    return await session.scalar(
        sa.select(User)
        .join(LoginLink, LoginLink.user_id == User.id)
        .where(
            LoginLink.token_hash == tokens.digest(token),
            LoginLink.used_at.is_(None),
            LoginLink.expires_at > now,
            User.is_active.is_(True),
        )
    )


async def resolve_session(
    session: AsyncSession, *, token: str, policy: SessionPolicy, now: datetime
) -> tuple[User, WebSession] | None:
    row = await _session_row(session, token)
    if row is None:
        return None
    user, web_session = row
    if not _valid(user, web_session, policy, now):
        await session.execute(sa.delete(WebSession).where(WebSession.id == web_session.id))
        return None
    if now - web_session.last_seen_at >= LAST_SEEN_RESOLUTION:
        await session.execute(
            sa.update(WebSession).where(WebSession.id == web_session.id).values(last_seen_at=now)
        )
    return user, web_session


async def session_user(
    session: AsyncSession, *, token: str, policy: SessionPolicy, now: datetime
) -> User | None:
    """The user of a session that is still valid, without marking it used: an open live
    stream checks it now and then, and a tab merely left open must not keep a session
    alive past its idle timeout."""
    row = await _session_row(session, token)
    if row is None or not _valid(*row, policy, now):
        return None
    return row[0]


async def _session_row(session: AsyncSession, token: str) -> tuple[User, WebSession] | None:
    row = (
        await session.execute(
            sa.select(User, WebSession)
            .join(WebSession, WebSession.user_id == User.id)
            .where(WebSession.token_hash == tokens.digest(token))
        )
    ).first()
    return None if row is None else (row[0], row[1])


def _valid(user: User, web_session: WebSession, policy: SessionPolicy, now: datetime) -> bool:
    return (
        user.is_active
        and web_session.expires_at > now
        and web_session.last_seen_at + policy.idle > now
    )


async def logout(session: AsyncSession, *, actor: Actor, token: str, now: datetime) -> None:
    deleted = await session.scalar(
        sa.delete(WebSession)
        .where(WebSession.token_hash == tokens.digest(token))
        .returning(WebSession.user_id)
    )
    if deleted is not None:
        await audit.record(
            session,
            actor=actor,
            action="session.logout",
            resource_type="user",
            resource_id=deleted,
            now=now,
        )


async def _open_session(
    session: AsyncSession,
    user: User,
    ip_address: str | None,
    user_agent: str | None,
    policy: SessionPolicy,
    now: datetime,
) -> str:
    token = tokens.new_token()
    session.add(
        WebSession(
            token_hash=tokens.digest(token),
            user_id=user.id,
            created_at=now,
            last_seen_at=now,
            expires_at=now + policy.max_age,
            ip_address=ip_address,
            user_agent=(user_agent or "")[:512] or None,
        )
    )
    await session.flush()
    return token


async def _refuse_if_throttled(
    session: AsyncSession,
    address: str,
    ip_address: str | None,
    limits: login_limits.LoginLimits,
    now: datetime,
) -> None:
    since = now - limits.window
    failed = sa.and_(LoginAttempt.succeeded.is_(False), LoginAttempt.attempted_at > since)
    account = (
        await session.scalars(
            sa.select(LoginAttempt.attempted_at).where(failed, LoginAttempt.email == address)
        )
    ).all()
    by_ip: list[datetime] = []
    if ip_address:
        by_ip = list(
            (
                await session.scalars(
                    sa.select(LoginAttempt.attempted_at).where(
                        failed, LoginAttempt.ip_address == ip_address
                    )
                )
            ).all()
        )
    wait = login_limits.seconds_until_allowed(
        limits, account_failures=account, ip_failures=by_ip, now=now
    )
    if wait is not None:
        raise RateLimited("too many failed logins; try again later", retry_after=wait)


def _anonymous(address: str) -> Principal:
    return Principal(kind=PrincipalKind.ANONYMOUS, id=None, label=f"login attempt for {address}")


def _user(user: User) -> Principal:
    return Principal(kind=PrincipalKind.USER, id=user.id, label=user.email)
