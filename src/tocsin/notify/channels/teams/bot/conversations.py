"""The bot's database side: the personal conversations people opened with it, and the
Teams users linked to tocsin people.

A Teams contact method's address is ``<tenant id>:<Entra object id>`` (one person in
one directory); its details are the conversation a page is sent to (``connector.
Conversation``). Linking needs no other verification: Bot Connector, whose token the
Agents SDK checked, says who the person is, and tocsin's one-time link, opened signed
in, says which tocsin person they are.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from tocsin.actions.actors import Actor
from tocsin.actions.identity import contact_methods
from tocsin.db.models.contact_methods import ContactMethod
from tocsin.db.models.teams_bot import TeamsConversation
from tocsin.db.models.users import User
from tocsin.domain.channels import ChannelKind
from tocsin.errors import Conflict, NotFound

UNINSTALLED = "Teams: the tocsin bot was removed from this person's Teams"


def address(tenant_id: str, aad_object_id: str) -> str:
    return f"{tenant_id}:{aad_object_id}"


def details(conversation: TeamsConversation) -> dict[str, Any]:
    return {
        "tenant_id": conversation.tenant_id,
        "service_url": conversation.service_url,
        "conversation_id": conversation.conversation_id,
        "bot_id": conversation.bot_id,
        "teams_user_id": conversation.teams_user_id,
    }


async def remember(
    session: AsyncSession,
    *,
    tenant_id: str,
    aad_object_id: str,
    teams_user_id: str,
    bot_id: str,
    conversation_id: str,
    service_url: str,
    now: datetime,
) -> TeamsConversation:
    """Keep where this person's conversation with the bot is (an install, or any later
    message: the service URL may move). A person linked already gets pages there again
    if the bot had been removed."""
    values = {
        "teams_user_id": teams_user_id[:200],
        "bot_id": bot_id[:200],
        "conversation_id": conversation_id[:300],
        "service_url": service_url[:500],
        "removed_at": None,
        "updated_at": now,
    }
    conversation = await session.scalar(
        insert(TeamsConversation)
        .values(tenant_id=tenant_id, aad_object_id=aad_object_id, installed_at=now, **values)
        .on_conflict_do_update(index_elements=["tenant_id", "aad_object_id"], set_=values)
        .returning(TeamsConversation)
        .execution_options(populate_existing=True)
    )
    assert conversation is not None
    await session.execute(
        sa.update(ContactMethod)
        .where(
            ContactMethod.kind == ChannelKind.TEAMS,
            ContactMethod.address == address(tenant_id, aad_object_id),
        )
        .values(details=details(conversation), updated_at=now)
    )
    for method_id in await _methods(session, tenant_id, aad_object_id, disabled=True):
        await contact_methods.enable(session, method_id=method_id, now=now)
    return conversation


async def forget(
    session: AsyncSession, *, tenant_id: str, aad_object_id: str, now: datetime
) -> bool:
    """The person removed the bot: no page goes there, and their method says why."""
    removed = await session.scalar(
        sa.update(TeamsConversation)
        .where(
            TeamsConversation.tenant_id == tenant_id,
            TeamsConversation.aad_object_id == aad_object_id,
            TeamsConversation.removed_at.is_(None),
        )
        .values(removed_at=now, updated_at=now)
        .returning(TeamsConversation.tenant_id)
    )
    for method_id in await _methods(session, tenant_id, aad_object_id, disabled=False):
        await contact_methods.disable(session, method_id=method_id, reason=UNINSTALLED, now=now)
    return removed is not None


async def _methods(
    session: AsyncSession, tenant_id: str, aad_object_id: str, *, disabled: bool
) -> list[Any]:
    state = (
        ContactMethod.disabled_at.is_not(None) if disabled else ContactMethod.disabled_at.is_(None)
    )
    return list(
        (
            await session.scalars(
                sa.select(ContactMethod.id).where(
                    ContactMethod.kind == ChannelKind.TEAMS,
                    ContactMethod.address == address(tenant_id, aad_object_id),
                    state,
                )
            )
        ).all()
    )


async def linked_user(session: AsyncSession, *, tenant_id: str, aad_object_id: str) -> User | None:
    """The active tocsin person this Teams user is linked to, if any."""
    return await contact_methods.linked_user(
        session, kind=ChannelKind.TEAMS, address=address(tenant_id, aad_object_id)
    )


async def link(
    session: AsyncSession,
    *,
    actor: Actor,
    user: User,
    tenant_id: str,
    aad_object_id: str,
    now: datetime,
) -> ContactMethod:
    """Make the Teams user's conversation with the bot a contact method of ``user``:
    pages then come as personal messages, and their presses act as ``user``. A Teams
    user is one person: linked to someone else already, it is refused."""
    conversation = await session.get(TeamsConversation, (tenant_id, aad_object_id))
    if conversation is None or conversation.removed_at is not None:
        raise NotFound("teams_conversation", aad_object_id)
    value = address(tenant_id, aad_object_id)
    other = await session.scalar(
        sa.select(ContactMethod.user_id).where(
            ContactMethod.kind == ChannelKind.TEAMS,
            ContactMethod.address == value,
            ContactMethod.user_id != user.id,
        )
    )
    if other is not None:
        raise Conflict("this Teams account is linked to another tocsin person")
    return await contact_methods.connect(
        session,
        actor=actor,
        user_id=user.id,
        kind=ChannelKind.TEAMS,
        address=value,
        label="Microsoft Teams",
        details=details(conversation),
        now=now,
        audit_as="contact_method.teams_linked",
        audit_details={"tenant_id": tenant_id},
    )
