"""Slack's database side: installed workspaces and their tokens, install states, linked
people, and the requests already seen.

A Slack contact method's address is ``<team id>:<user id>`` (one person in one
workspace); linking one needs no other verification, since Slack itself says who the
person is (a signed ``/tocsin link`` request, then a one-time link opened signed in).
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from tocsin.actions import audit
from tocsin.actions.actors import Actor, system_actor
from tocsin.actions.identity import contact_methods
from tocsin.db.models.contact_methods import ContactMethod
from tocsin.db.models.slack import SlackInstallState, SlackSeenRequest, SlackWorkspace
from tocsin.db.models.users import User
from tocsin.domain.channels import ChannelKind
from tocsin.errors import Conflict
from tocsin.security.encryption import Cipher

INSTALL_STATE_LIFE = timedelta(minutes=10)
# Slack accepts a request timestamp 5 minutes either way; a signature is kept a little
# longer than a replay of it could be accepted.
SEEN_FOR = timedelta(minutes=11)


def address(team_id: str, user_id: str) -> str:
    return f"{team_id}:{user_id}"


def split_address(value: str) -> tuple[str, str]:
    team_id, _, user_id = value.partition(":")
    return team_id, user_id


@dataclass(frozen=True)
class Tokens:
    """A working workspace's bot token, and what renews it when token rotation is on.

    ``version`` is the stored refresh token's ciphertext as read: Fernet ciphertexts are
    never equal twice, so it names this exact rotation for the conditional UPDATE."""

    bot_token: str
    refresh_token: str | None
    expires_at: datetime | None
    version: str | None

    def due(self, now: datetime, margin: timedelta) -> bool:
        """Whether the token should be renewed before it is used (rotation on, and it
        expires within ``margin``)."""
        return (
            self.refresh_token is not None
            and self.expires_at is not None
            and self.expires_at - margin <= now
        )


async def tokens(session: AsyncSession, cipher: Cipher, team_id: str) -> Tokens | None:
    workspace = await session.get(SlackWorkspace, team_id)
    if workspace is None or workspace.disabled_at is not None:
        return None
    encrypted = workspace.refresh_token_encrypted
    return Tokens(
        bot_token=cipher.decrypt(workspace.bot_token_encrypted),
        refresh_token=cipher.decrypt(encrypted) if encrypted else None,
        expires_at=workspace.token_expires_at,
        version=encrypted,
    )


async def lock_for_renewal(
    session: AsyncSession, cipher: Cipher, *, team_id: str, version: str | None
) -> Tokens | None:
    """The workspace's tokens, locked for this transaction, if they are still those of
    ``version`` and no other worker holds them; None otherwise (renewed meanwhile, being
    renewed right now, or the workspace disabled)."""
    if version is None:
        return None
    workspace = await session.scalar(
        sa.select(SlackWorkspace)
        .where(
            SlackWorkspace.team_id == team_id,
            SlackWorkspace.refresh_token_encrypted == version,
            SlackWorkspace.disabled_at.is_(None),
        )
        .with_for_update(skip_locked=True)
    )
    if workspace is None:
        return None
    return Tokens(
        bot_token=cipher.decrypt(workspace.bot_token_encrypted),
        refresh_token=cipher.decrypt(version),
        expires_at=workspace.token_expires_at,
        version=version,
    )


async def rotate(
    session: AsyncSession,
    cipher: Cipher,
    *,
    team_id: str,
    previous: Tokens,
    renewed: Tokens,
    now: datetime,
) -> bool:
    """Keep the tokens Slack answered a refresh with, if the stored ones are still those
    the refresh started from. False when another worker rotated them first: its tokens are
    as good, and the caller reads them instead of overwriting them with its own (which
    would leave the other worker's refresh token, maybe the only valid one, unstored)."""
    done = await session.scalar(
        sa.update(SlackWorkspace)
        .where(
            SlackWorkspace.team_id == team_id,
            SlackWorkspace.refresh_token_encrypted == previous.version,
            SlackWorkspace.disabled_at.is_(None),
        )
        .values(
            bot_token_encrypted=cipher.encrypt(renewed.bot_token),
            refresh_token_encrypted=(
                cipher.encrypt(renewed.refresh_token) if renewed.refresh_token else None
            ),
            token_expires_at=renewed.expires_at,
            updated_at=now,
        )
        .returning(SlackWorkspace.team_id)
    )
    return done is not None


async def disabled(session: AsyncSession) -> list[tuple[str, str]]:
    """(name, reason) of the workspaces tocsin no longer reaches: uninstalled, or its
    token could not be renewed. Shown on the notification settings page."""
    rows = await session.execute(
        sa.select(SlackWorkspace.team_name, SlackWorkspace.disabled_reason)
        .where(SlackWorkspace.disabled_at.is_not(None))
        .order_by(SlackWorkspace.team_name)
    )
    return [(name, reason or "") for name, reason in rows.all()]


async def working_name(session: AsyncSession, team_id: str) -> str | None:
    """The workspace's name, if tocsin is installed there and working."""
    return await session.scalar(
        sa.select(SlackWorkspace.team_name).where(
            SlackWorkspace.team_id == team_id, SlackWorkspace.disabled_at.is_(None)
        )
    )


async def only_workspace(session: AsyncSession) -> str | None:
    """The one working workspace, when there is exactly one (a channel named without its
    workspace then means that one)."""
    found = (
        await session.scalars(
            sa.select(SlackWorkspace.team_id).where(SlackWorkspace.disabled_at.is_(None)).limit(2)
        )
    ).all()
    return found[0] if len(found) == 1 else None


# What a state is for: one issued to install the app is no good to sign in with, nor the
# other way round (the purpose is part of the stored digest, so one table serves both).
INSTALL = ""
SIGN_IN = "sign-in:"


async def start_install(
    session: AsyncSession, *, user_id: uuid.UUID, now: datetime, purpose: str = INSTALL
) -> str:
    state = secrets.token_urlsafe(32)
    await session.execute(sa.delete(SlackInstallState).where(SlackInstallState.expires_at < now))
    session.add(
        SlackInstallState(
            state_hash=_digest(purpose + state),
            user_id=user_id,
            expires_at=now + INSTALL_STATE_LIFE,
        )
    )
    await session.flush()
    return state


async def use_install_state(
    session: AsyncSession,
    *,
    state: str,
    user_id: uuid.UUID,
    now: datetime,
    purpose: str = INSTALL,
) -> bool:
    """Whether ``state`` was issued to this person less than 10 minutes ago and not used
    yet. It is used up by any attempt (a DELETE, so only one request can win), also one
    by another person: a state seen in someone else's browser is no longer the admin's."""
    used = (
        await session.execute(
            sa.delete(SlackInstallState)
            .where(SlackInstallState.state_hash == _digest(purpose + state))
            .returning(SlackInstallState.user_id, SlackInstallState.expires_at)
        )
    ).first()
    return used is not None and used.user_id == user_id and used.expires_at > now


async def install(
    session: AsyncSession,
    cipher: Cipher,
    *,
    actor: Actor,
    team_id: str,
    team_name: str,
    bot_user_id: str,
    bot_token: str,
    refresh_token: str | None,
    expires_at: datetime | None,
    now: datetime,
) -> None:
    """Keep the workspace's new token (a re-install replaces the old one and enables a
    workspace that was uninstalled)."""
    values = {
        "team_name": team_name[:200],
        "bot_user_id": bot_user_id,
        "bot_token_encrypted": cipher.encrypt(bot_token),
        "refresh_token_encrypted": cipher.encrypt(refresh_token) if refresh_token else None,
        "token_expires_at": expires_at,
        "installed_by_user_id": actor.user_id,
        "disabled_at": None,
        "disabled_reason": None,
        "updated_at": now,
    }
    await session.execute(
        insert(SlackWorkspace)
        .values(team_id=team_id, created_at=now, **values)
        .on_conflict_do_update(index_elements=["team_id"], set_=values)
    )
    await audit.record(
        session,
        actor=actor,
        action="slack.installed",
        resource_type="slack_workspace",
        resource_id=team_id,
        now=now,
        details={"team_name": team_name[:200]},
    )


async def disable(session: AsyncSession, *, team_id: str, reason: str, now: datetime) -> bool:
    done = await session.scalar(
        sa.update(SlackWorkspace)
        .where(SlackWorkspace.team_id == team_id, SlackWorkspace.disabled_at.is_(None))
        .values(disabled_at=now, disabled_reason=reason[:300], updated_at=now)
        .returning(SlackWorkspace.team_id)
    )
    if done is None:
        return False
    await audit.record(
        session,
        actor=system_actor("slack"),
        action="slack.disabled",
        resource_type="slack_workspace",
        resource_id=team_id,
        now=now,
        details={"reason": reason[:300]},
    )
    return True


async def first_seen(session: AsyncSession, *, signature: str, now: datetime) -> bool:
    """Record a signed request; False when the same signature was seen before (a
    replay, or Slack's own retry of a request already acted on)."""
    await session.execute(
        sa.delete(SlackSeenRequest).where(SlackSeenRequest.seen_at < now - SEEN_FOR)
    )
    inserted = await session.scalar(
        insert(SlackSeenRequest)
        .values(signature=signature[:80], seen_at=now)
        .on_conflict_do_nothing(index_elements=["signature"])
        .returning(SlackSeenRequest.signature)
    )
    return inserted is not None


async def linked_user(session: AsyncSession, *, team_id: str, user_id: str) -> User | None:
    """The active tocsin person this Slack user is linked to, if any."""
    return await contact_methods.linked_user(
        session, kind=ChannelKind.SLACK, address=address(team_id, user_id)
    )


async def link(
    session: AsyncSession,
    *,
    actor: Actor,
    user: User,
    team_id: str,
    slack_user_id: str,
    now: datetime,
) -> ContactMethod:
    """Make the Slack user a contact method of ``user``: pages then come as direct
    messages, and their presses act as ``user``. A Slack user is one person: linked to
    someone else already, it is refused."""
    value = address(team_id, slack_user_id)
    other = await session.scalar(
        sa.select(ContactMethod.user_id).where(
            ContactMethod.kind == ChannelKind.SLACK,
            ContactMethod.address == value,
            ContactMethod.user_id != user.id,
        )
    )
    if other is not None:
        raise Conflict("this Slack account is linked to another tocsin person")
    team_name = await session.scalar(
        sa.select(SlackWorkspace.team_name).where(SlackWorkspace.team_id == team_id)
    )
    method = await contact_methods.connect(
        session,
        actor=actor,
        user_id=user.id,
        kind=ChannelKind.SLACK,
        address=value,
        label=f"Slack ({team_name or team_id})",
        details={"team_id": team_id},
        now=now,
        audit_as="contact_method.slack_linked",
        audit_details={"team_id": team_id},
    )
    return method


def _digest(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()
