"""Creating, changing and deactivating users.

Anyone signed in may read users and change their own name, time zone, phone and password;
everything else about a user is for platform admins. The last active platform admin can be
neither demoted nor deactivated, so an installation can never lock itself out.
"""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from tocsin.actions import audit
from tocsin.actions.actors import Actor
from tocsin.actions.identity import contact_methods
from tocsin.db import keyset
from tocsin.db.constraints import flush_unique
from tocsin.db.models.users import User
from tocsin.db.models.web_sessions import LoginLink, WebSession
from tocsin.domain import identity
from tocsin.domain.access import Action, authorize
from tocsin.errors import Conflict, InvalidInput, NotFound
from tocsin.security import passwords


async def create_user(
    session: AsyncSession,
    *,
    actor: Actor,
    email: str,
    name: str,
    now: datetime,
    time_zone: str = "UTC",
    phone: str | None = None,
    password: str | None = None,
    is_platform_admin: bool = False,
) -> User:
    authorize(actor.principal, Action.MANAGE_USERS)
    user = User(
        id=uuid.uuid4(),
        email=identity.normalise_email(email),
        name=_clean_name(name),
        time_zone=identity.validate_time_zone(time_zone),
        phone=identity.normalise_phone(phone) if phone else None,
        password_hash=await _new_password_hash(password),
        is_platform_admin=is_platform_admin,
        is_active=True,
        created_at=now,
        updated_at=now,
    )
    session.add(user)
    await flush_unique(
        session, resource="user", fields={"uq_user_account_email": ("email", user.email)}
    )
    # Reachable from the first minute: the account email and the default rules.
    await contact_methods.provision_defaults(session, user, now=now)
    await audit.record(
        session,
        actor=actor,
        action="user.created",
        resource_type="user",
        resource_id=user.id,
        now=now,
        details={"email": user.email, "is_platform_admin": is_platform_admin},
    )
    return user


@dataclass(frozen=True)
class UserChanges:
    """Fields to change; ``None`` on an optional field means "leave as is", except
    ``phone``, where ``clear_phone`` removes it."""

    name: str | None = None
    email: str | None = None
    time_zone: str | None = None
    phone: str | None = None
    clear_phone: bool = False
    is_platform_admin: bool | None = None


_ADMIN_ONLY = ("email", "is_platform_admin")


async def update_user(
    session: AsyncSession, *, actor: Actor, user_id: uuid.UUID, changes: UserChanges, now: datetime
) -> User:
    user = await _locked_user(session, user_id)
    if actor.user_id != user_id or any(getattr(changes, f) is not None for f in _ADMIN_ONLY):
        authorize(actor.principal, Action.MANAGE_USERS)
    changed: dict[str, object] = {}
    if changes.name is not None:
        changed["name"] = _clean_name(changes.name)
    if changes.email is not None:
        changed["email"] = identity.normalise_email(changes.email)
    if changes.time_zone is not None:
        changed["time_zone"] = identity.validate_time_zone(changes.time_zone)
    if changes.phone is not None:
        changed["phone"] = identity.normalise_phone(changes.phone)
    elif changes.clear_phone:
        changed["phone"] = None
    if changes.is_platform_admin is not None:
        if not changes.is_platform_admin and user.is_platform_admin:
            await _refuse_if_last_admin(session, user)
        changed["is_platform_admin"] = changes.is_platform_admin
    changed = {key: value for key, value in changed.items() if getattr(user, key) != value}
    if not changed:
        return user
    previous_email = user.email
    for key, value in changed.items():
        setattr(user, key, value)
    user.updated_at = now
    await flush_unique(
        session, resource="user", fields={"uq_user_account_email": ("email", user.email)}
    )
    if "email" in changed:
        await contact_methods.follow_account_email(
            session, actor=actor, user=user, previous=previous_email, now=now
        )
    await audit.record(
        session,
        actor=actor,
        action="user.updated",
        resource_type="user",
        resource_id=user.id,
        now=now,
        details={"changed": sorted(changed)},
    )
    return user


async def set_active(
    session: AsyncSession, *, actor: Actor, user_id: uuid.UUID, active: bool, now: datetime
) -> User:
    """Deactivating a user also ends their sessions and voids their login links."""
    authorize(actor.principal, Action.MANAGE_USERS)
    user = await _locked_user(session, user_id)
    if user.is_active == active:
        return user
    if not active:
        if user.is_platform_admin:
            await _refuse_if_last_admin(session, user)
        await session.execute(sa.delete(WebSession).where(WebSession.user_id == user.id))
        await session.execute(
            sa.update(LoginLink)
            .where(LoginLink.user_id == user.id, LoginLink.used_at.is_(None))
            .values(used_at=now)
        )
    user.is_active = active
    user.deactivated_at = None if active else now
    user.updated_at = now
    await session.flush()
    await audit.record(
        session,
        actor=actor,
        action="user.reactivated" if active else "user.deactivated",
        resource_type="user",
        resource_id=user.id,
        now=now,
    )
    return user


async def change_password(
    session: AsyncSession,
    *,
    actor: Actor,
    user_id: uuid.UUID,
    new_password: str,
    current_password: str | None,
    now: datetime,
) -> None:
    """People change their own password by proving the current one (if they have one);
    platform admins may set anyone's."""
    user = await _locked_user(session, user_id)
    if actor.user_id == user_id:
        if user.password_hash is not None and not await asyncio.to_thread(
            passwords.verify_password, user.password_hash, current_password or ""
        ):
            raise InvalidInput("current_password", "the current password is not correct")
    else:
        authorize(actor.principal, Action.MANAGE_USERS)
    user.password_hash = await _new_password_hash(new_password)
    user.updated_at = now
    await session.flush()
    await audit.record(
        session,
        actor=actor,
        action="user.password_changed",
        resource_type="user",
        resource_id=user.id,
        now=now,
    )


async def get_user(session: AsyncSession, *, actor: Actor, user_id: uuid.UUID) -> User:
    authorize(actor.principal, Action.READ_USERS)
    user = await session.get(User, user_id)
    if user is None:
        raise NotFound("user", user_id)
    return user


async def list_users(
    session: AsyncSession,
    *,
    actor: Actor,
    cursor: str | None,
    limit: int,
    search: str | None = None,
    active: bool | None = None,
) -> keyset.Page[User]:
    authorize(actor.principal, Action.READ_USERS)
    query = sa.select(User)
    if search:
        pattern = f"%{_escape_like(search.lower())}%"
        query = query.where(
            sa.or_(
                User.email.like(pattern, escape="\\"),
                sa.func.lower(User.name).like(pattern, escape="\\"),
            )
        )
    if active is not None:
        query = query.where(User.is_active.is_(active))
    return await keyset.fetch_page(session, query, key=User.id, cursor=cursor, limit=limit)


async def count_users(session: AsyncSession) -> int:
    return int(await session.scalar(sa.select(sa.func.count()).select_from(User)) or 0)


async def _locked_user(session: AsyncSession, user_id: uuid.UUID) -> User:
    user = await session.get(User, user_id, with_for_update=True)
    if user is None:
        raise NotFound("user", user_id)
    return user


async def _refuse_if_last_admin(session: AsyncSession, user: User) -> None:
    # Lock every active admin row so that two admins demoting each other at the same
    # moment cannot both pass the count and leave zero.
    admins = (
        await session.scalars(
            sa.select(User.id)
            .where(User.is_platform_admin.is_(True), User.is_active.is_(True))
            .with_for_update()
        )
    ).all()
    if list(admins) == [user.id]:
        raise Conflict(
            f"{user.email} is the last active platform admin; make someone else admin first",
            field="is_platform_admin",
        )


async def _new_password_hash(password: str | None) -> str | None:
    if password is None:
        return None
    passwords.check_strength(password)
    # argon2 spends ~0.2 s of CPU on purpose: keep it off the event loop.
    return await asyncio.to_thread(passwords.hash_password, password)


def _clean_name(name: str) -> str:
    cleaned = " ".join(name.split())
    if not cleaned:
        raise InvalidInput("name", "a name cannot be blank")
    if len(cleaned) > 200:
        raise InvalidInput("name", "a name has at most 200 characters")
    return cleaned


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
