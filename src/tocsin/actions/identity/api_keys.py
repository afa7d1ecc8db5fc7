"""API keys: created by platform admins in person, shown once, stored as SHA-256."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from tocsin.actions import audit
from tocsin.actions.actors import Actor
from tocsin.db import keyset
from tocsin.db.models.api_keys import ApiKey
from tocsin.domain.access import Action, Principal, PrincipalKind, Scope, authorize
from tocsin.errors import InvalidInput, NotAuthenticated, NotFound
from tocsin.security import tokens

# last_used_at is written at most this often per key: a busy integration would otherwise
# turn every read request into a row update.
LAST_USED_RESOLUTION = timedelta(minutes=1)

_KNOWN_SCOPES = frozenset(scope.value for scope in Scope)


@dataclass(frozen=True)
class IssuedKey:
    key: ApiKey
    secret: str


async def create_api_key(
    session: AsyncSession,
    *,
    actor: Actor,
    name: str,
    scopes: Iterable[Scope],
    now: datetime,
    expires_at: datetime | None = None,
) -> IssuedKey:
    authorize(actor.principal, Action.MANAGE_API_KEYS)
    cleaned = " ".join(name.split())
    if not cleaned or len(cleaned) > 100:
        raise InvalidInput("name", "a key name has 1 to 100 characters")
    chosen = sorted({Scope(scope).value for scope in scopes})
    if not chosen:
        raise InvalidInput("scopes", "a key needs at least one scope")
    if expires_at is not None and expires_at <= now:
        raise InvalidInput("expires_at", "the expiry must be in the future")
    secret = tokens.new_api_key()
    key = ApiKey(
        id=uuid.uuid4(),
        name=cleaned,
        display_prefix=tokens.display_prefix(secret),
        key_hash=tokens.digest(secret),
        scopes=chosen,
        created_by_user_id=actor.user_id,
        created_at=now,
        expires_at=expires_at,
    )
    session.add(key)
    await session.flush()
    await audit.record(
        session,
        actor=actor,
        action="api_key.created",
        resource_type="api_key",
        resource_id=key.id,
        now=now,
        details={"name": cleaned, "scopes": chosen, "expires_at": _iso(expires_at)},
    )
    return IssuedKey(key, secret)


async def revoke_api_key(
    session: AsyncSession, *, actor: Actor, key_id: uuid.UUID, now: datetime
) -> ApiKey:
    authorize(actor.principal, Action.MANAGE_API_KEYS)
    key = await session.get(ApiKey, key_id, with_for_update=True)
    if key is None:
        raise NotFound("api key", key_id)
    if key.revoked_at is None:
        key.revoked_at = now
        await session.flush()
        await audit.record(
            session,
            actor=actor,
            action="api_key.revoked",
            resource_type="api_key",
            resource_id=key.id,
            now=now,
            details={"name": key.name},
        )
    return key


async def list_api_keys(
    session: AsyncSession, *, actor: Actor, cursor: str | None, limit: int
) -> keyset.Page[ApiKey]:
    authorize(actor.principal, Action.MANAGE_API_KEYS)
    return await keyset.fetch_page(
        session, sa.select(ApiKey), key=ApiKey.id, cursor=cursor, limit=limit
    )


async def authenticate(session: AsyncSession, *, secret: str, now: datetime) -> Principal:
    """The principal a presented key acts as; ``NotAuthenticated`` if it is unknown,
    revoked or expired (all three look the same to the caller)."""
    key = await session.scalar(sa.select(ApiKey).where(ApiKey.key_hash == tokens.digest(secret)))
    if key is None or key.revoked_at is not None or (key.expires_at and key.expires_at <= now):
        raise NotAuthenticated("the API key is not valid")
    if key.last_used_at is None or now - key.last_used_at >= LAST_USED_RESOLUTION:
        # A plain conditional UPDATE, not an ORM write: concurrent requests with the same
        # key must not queue behind a row lock just to record usage.
        await session.execute(
            sa.update(ApiKey)
            .where(ApiKey.id == key.id)
            .where(sa.or_(ApiKey.last_used_at.is_(None), ApiKey.last_used_at < now))
            .values(last_used_at=now)
        )
    return Principal(
        kind=PrincipalKind.API_KEY,
        id=key.id,
        label=f"api key {key.name} ({key.display_prefix}…)",
        # A scope stored by a newer release that this one does not know grants nothing.
        scopes=frozenset(Scope(scope) for scope in key.scopes if scope in _KNOWN_SCOPES),
    )


def _iso(instant: datetime | None) -> str | None:
    return instant.isoformat() if instant else None
