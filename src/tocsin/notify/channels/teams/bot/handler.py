"""What tocsin's Teams bot does with each activity Bot Connector delivers (after the
Agents SDK checked its token, ``routes.py``).

* The bot added in a personal chat (``conversationUpdate`` naming the bot among the
  members added, or ``installationUpdate`` ``add``): the conversation is kept
  (``conversations.remember``) and, once, the person is told how to link their account.
* The bot removed (``installationUpdate`` ``remove``, or the bot among members removed):
  the conversation is forgotten and a linked method is disabled with that reason.
* A message: ``link`` answers with a one-time link (opened signed in to tocsin, it makes
  this conversation a contact method of that person); anything else, the help.
* A press on a page's ``Action.Execute`` button (``adaptiveCard/action`` invoke): the
  action as the linked person, through the same ``actions/`` functions and permissions
  as the API, "via Teams"; the answer is the card as the incident now stands, so it
  refreshes in place. An unlinked person gets a card saying what to do; nothing changes.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime
from http import HTTPStatus
from typing import Any

from microsoft_agents.activity import (
    Activity,
    AdaptiveCardInvokeResponse,
    ChannelAccount,
    InvokeResponse,
)
from microsoft_agents.hosting.core import ActivityHandler, MessageFactory, TurnContext
from sqlalchemy.ext.asyncio import AsyncSession

from tocsin.actions import principals
from tocsin.actions.actors import Actor
from tocsin.actions.incidents import incidents
from tocsin.actions.notify import follow_ups
from tocsin.clock import Clock
from tocsin.db.models.incidents import Incident
from tocsin.db.session import Database
from tocsin.errors import NotFound, PermissionDenied, StaleTransition, TocsinError
from tocsin.notify import wording
from tocsin.notify.channels.base import IncidentUpdate
from tocsin.notify.channels.teams.bot import cards, conversations

VIA = "teams"
HELP = (
    "I am tocsin's bot: I page you here when you are on call, with buttons to "
    "acknowledge, resolve or escalate. Type **link** to link your Teams account to your "
    "tocsin account."
)
UNLINKED = (
    "Your Teams account is not linked to a tocsin account yet, so nothing was changed. "
    "Type **link** in this chat to link it."
)


class TocsinBot(ActivityHandler):  # type: ignore[misc]
    """One per app; ``link_url(tenant, aad object id)`` makes the one-time link."""

    def __init__(
        self,
        database: Database,
        clock: Clock,
        *,
        base_url: str,
        link_url: Callable[[str, str], str],
    ) -> None:
        self.database = database
        self.clock = clock
        self.base_url = base_url
        self.link_url = link_url

    # Install and uninstall ------------------------------------------------------------

    async def on_members_added_activity(
        self, members_added: list[ChannelAccount], turn_context: TurnContext
    ) -> None:
        if _names_bot(members_added, turn_context.activity):
            await self._installed(turn_context)

    async def on_members_removed_activity(
        self, members_removed: list[ChannelAccount], turn_context: TurnContext
    ) -> None:
        if _names_bot(members_removed, turn_context.activity):
            await self._removed(turn_context.activity)

    async def on_installation_update_add(self, turn_context: TurnContext) -> None:
        # Teams sends this and a ``conversationUpdate`` for one install: the conversation
        # is kept on both, the greeting sent on the latter only, so it comes once.
        await self._remember(turn_context.activity)

    async def on_installation_update_remove(self, turn_context: TurnContext) -> None:
        await self._removed(turn_context.activity)

    async def _installed(self, turn_context: TurnContext) -> None:
        who = await self._remember(turn_context.activity)
        if who is None:
            return  # a team or group chat: the bot pages people in personal chats only
        await turn_context.send_activity(MessageFactory.text(HELP))

    async def _removed(self, activity: Activity) -> None:
        who = _person(activity)
        if who is None:
            return
        async with self.database.transaction() as session:
            await conversations.forget(
                session, tenant_id=who[0], aad_object_id=who[1], now=self.clock.now()
            )

    async def _remember(self, activity: Activity) -> tuple[str, str] | None:
        who = _person(activity)
        if who is None or activity.conversation.conversation_type not in (None, "personal"):
            return None
        async with self.database.transaction() as session:
            await conversations.remember(
                session,
                tenant_id=who[0],
                aad_object_id=who[1],
                teams_user_id=_user(activity).id or "",
                bot_id=activity.recipient.id or "",
                conversation_id=activity.conversation.id,
                service_url=activity.service_url or "",
                now=self.clock.now(),
            )
        return who

    # Messages -------------------------------------------------------------------------

    async def on_message_activity(self, turn_context: TurnContext) -> None:
        who = await self._remember(turn_context.activity)
        if who is None:
            return
        text = (turn_context.activity.text or "").strip().lower()
        if text == "link":
            reply = (
                "Open this link within 10 minutes, signed in to tocsin, to link your Teams "
                f"account: {self.link_url(*who)}"
            )
        else:
            reply = HELP
        await turn_context.send_activity(MessageFactory.text(reply))

    # Button presses -------------------------------------------------------------------

    async def on_invoke_activity(self, turn_context: TurnContext) -> InvokeResponse:
        activity = turn_context.activity
        if activity.name != "adaptiveCard/action":
            return InvokeResponse(status=int(HTTPStatus.NOT_IMPLEMENTED))
        press = _press(activity.value)
        if press is None:
            return _answer(cards.note_card("This button is not one of tocsin's."))
        verb, incident_id = press
        who = _person(activity)
        actor = await self._actor(who) if who is not None else None
        if actor is None:
            return _answer(cards.note_card(UNLINKED))
        return _answer(await self.act(actor, verb, incident_id))

    async def _actor(self, who: tuple[str, str]) -> Actor | None:
        async with self.database.transaction() as session:
            user = await conversations.linked_user(session, tenant_id=who[0], aad_object_id=who[1])
            if user is None:
                return None
            return Actor(await principals.user_principal(session, user), None, "Teams")

    async def act(self, actor: Actor, verb: str, incident_id: uuid.UUID) -> dict[str, Any]:
        """Do ``verb`` as ``actor``; the card as the incident now stands, with a line
        saying why nothing changed when nothing did."""
        now = self.clock.now()
        note: str | None = None
        try:
            async with self.database.transaction() as session:
                await _apply(session, actor, verb, incident_id, now)
        except StaleTransition as error:
            note = f"Nothing changed: this incident is {wording.already(error)}."
        except PermissionDenied:
            note = "You may not change this incident: you are not a responder of its team."
        except NotFound:
            return cards.note_card("There is no such incident.")
        except TocsinError as error:
            note = f"Nothing changed: {error.detail}"
        update = await self.current(incident_id)
        if update is None:
            return cards.note_card("There is no such incident.")
        return cards.updated_card(update, note=note)

    async def current(self, incident_id: uuid.UUID) -> IncidentUpdate | None:
        async with self.database.transaction() as session:
            views = await follow_ups.incident_views(session, [incident_id])
        view = views.get(incident_id)
        if view is None:
            return None
        return IncidentUpdate(
            incident=view.row.facts(self.base_url, {}),
            version=view.version,
            level=view.level,
            acknowledged_by=view.acknowledged_by,
            resolved_by=view.resolved_by,
        )


async def _apply(
    session: AsyncSession, actor: Actor, verb: str, incident_id: uuid.UUID, now: datetime
) -> Incident:
    if verb == cards.ACKNOWLEDGE:
        return await incidents.acknowledge(
            session, incident_id=incident_id, actor=actor, via=VIA, now=now
        )
    if verb == cards.RESOLVE:
        return await incidents.resolve(
            session, incident_id=incident_id, actor=actor, via=VIA, now=now
        )
    return await incidents.escalate_now(session, incident_id=incident_id, actor=actor, now=now)


def _answer(card: dict[str, Any]) -> InvokeResponse:
    """Universal Actions' answer: the card that replaces the pressed one."""
    body = AdaptiveCardInvokeResponse(status_code=200, type=cards.CARD, value=card).model_dump(
        mode="json", by_alias=True, exclude_none=True
    )
    return InvokeResponse(status=int(HTTPStatus.OK), body=body)


def _press(value: Any) -> tuple[str, uuid.UUID] | None:
    """(verb, incident) of an ``Action.Execute`` press on a tocsin card."""
    action = value.get("action") if isinstance(value, dict) else None
    if not isinstance(action, dict) or action.get("type") != "Action.Execute":
        return None
    verb, data = action.get("verb"), action.get("data")
    if verb not in cards.VERBS or not isinstance(data, dict):
        return None
    try:
        return str(verb), uuid.UUID(str(data.get("incident", "")))
    except ValueError:
        return None


def _user(activity: Activity) -> ChannelAccount:
    return activity.from_property or ChannelAccount()


def _person(activity: Activity) -> tuple[str, str] | None:
    """(tenant id, Entra object id) of the person the activity is from."""
    user = _user(activity)
    channel_data = activity.channel_data if isinstance(activity.channel_data, dict) else {}
    tenant = channel_data.get("tenant") if isinstance(channel_data, dict) else None
    tenant_id = (activity.conversation.tenant_id if activity.conversation else None) or (
        tenant.get("id") if isinstance(tenant, dict) else None
    )
    if not tenant_id or not user.aad_object_id:
        return None
    return str(tenant_id)[:64], str(user.aad_object_id)[:64]


def _names_bot(members: list[ChannelAccount], activity: Activity) -> bool:
    bot = activity.recipient.id if activity.recipient else None
    return any(member.id == bot for member in members)
