"""The Teams channel: personal pages through tocsin's bot, and incidents posted to Teams
channels through Workflows webhooks.

**Personal pages** (with ``TOCSIN_TEAMS_APP_ID`` and friends, ``connector.py``): a
proactive message in the person's chat with the bot, an Adaptive Card whose buttons act
in place (``bot.py``); the card is updated when the incident changes (``refresh``).

* **sent**: Bot Connector answered 2xx with the activity's id.
* **delivered**: Teams reports nothing further; sent is as far as it goes.
* **unknown**: no answer in time. Bot Connector has no idempotency key, so a re-send may
  show the page twice; it is re-sent all the same (``resend_after_unknown``): a page
  possibly lost is worse than one possibly shown twice.
* 429 → due again at ``Retry-After``; 403 / 404 (left the tenant, bot removed or blocked)
  → permanent, the method disabled and shown (``connector.py``).

**Channel posts** need no Azure set-up: a Workflows webhook cannot edit what it posted, so
every change of the incident is a new card in the channel (acknowledged by whom,
resolved).

* **sent**: the webhook answered 2xx (Workflows answers 202 Accepted: the flow took it).
* 429 → retried at ``Retry-After``; 400, 401, 403, 404, 410 → the webhook is gone or
  refuses cards: the place is marked broken (``post_target.broken_reason``) and shown.
* no answer in time → unknown, retried (a duplicate card is the lesser harm).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass

import httpx
from microsoft_agents.activity import Activity

from tocsin.domain.channels import ChannelKind
from tocsin.domain.deliveries import ErrorCode, Failed, Outcome, Sent, Unknown, retry_after
from tocsin.domain.notices import Notice
from tocsin.notify.channels.base import IncidentUpdate, PostTarget, Provider, SentPage
from tocsin.notify.channels.teams import bot_cards, cards
from tocsin.notify.channels.teams.connector import BotConnector, Conversation

GONE = frozenset({400, 401, 403, 404, 410})


@dataclass(frozen=True)
class TeamsPage:
    conversation: Conversation | None  # None: the method keeps no conversation
    activity: Activity


class BotProvider:
    name = "teams"

    def __init__(self, connector: BotConnector) -> None:
        self.connector = connector

    async def send(self, message: TeamsPage, *, time_limit: float) -> Outcome:
        if message.conversation is None:
            return _no_conversation()
        return await self.connector.send(
            message.conversation, message.activity, time_limit=time_limit
        )


class TeamsChannel:
    kind = ChannelKind.TEAMS
    intrusive = False
    resend_after_unknown = True

    def __init__(
        self,
        base_url: str,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        connector: BotConnector | None = None,
    ) -> None:
        self.base_url = base_url
        self._transport = transport
        self.connector = connector
        # Without the bot, Teams has no way to page a person: no provider, so the rules
        # report Teams as reaching nobody rather than pretending to send.
        self._providers = [BotProvider(connector)] if connector is not None else []
        self.supports_interactivity = connector is not None

    @property
    def providers(self) -> Sequence[Provider[TeamsPage]]:
        return self._providers

    def render(self, notice: Notice) -> TeamsPage:
        summary, card = bot_cards.notice_card(notice)
        return TeamsPage(
            Conversation.of(notice.recipient.method_details), bot_cards.activity(summary, card)
        )

    async def refresh(
        self, page: SentPage, update: IncidentUpdate, *, time_limit: float
    ) -> Outcome:
        """The card now says who acknowledged or resolved; its buttons follow the state."""
        conversation = Conversation.of(page.method_details)
        if self.connector is None or conversation is None:
            return _no_conversation()
        summary = f"#{update.incident.number} {update.incident.title}: {cards.status_line(update)}"
        activity = bot_cards.activity(summary, bot_cards.updated_card(update))
        return await self.connector.update(
            conversation, page.provider_message_id, activity, time_limit=time_limit
        )

    async def post(
        self, target: PostTarget, update: IncidentUpdate, *, time_limit: float
    ) -> Outcome:
        return await self._send(target.address, update, time_limit=time_limit)

    async def update(
        self, target: PostTarget, reference: str, update: IncidentUpdate, *, time_limit: float
    ) -> Outcome:
        return await self._send(target.address, update, time_limit=time_limit)

    async def _send(self, url: str, update: IncidentUpdate, *, time_limit: float) -> Outcome:
        try:
            async with httpx.AsyncClient(
                timeout=time_limit, transport=self._transport, follow_redirects=False
            ) as client:
                response = await client.post(url, json=cards.message(update, self.base_url))
        except httpx.TimeoutException as error:
            return Unknown(f"Teams webhook: {type(error).__name__}")
        except httpx.HTTPError as error:
            return Failed(
                ErrorCode.PROVIDER_UNAVAILABLE, f"Teams webhook: {error}", permanent=False
            )
        if response.is_success:
            return Sent(provider_message_id=str(uuid.uuid4()))
        detail = f"Teams webhook answered {response.status_code}"
        if response.status_code == 429:
            return Failed(
                ErrorCode.RATE_LIMITED,
                detail,
                permanent=False,
                retry_after=retry_after(response.headers.get("retry-after")),
            )
        if response.status_code in GONE:
            return Failed(ErrorCode.REVOKED, detail, permanent=True, provider_fault=False)
        return Failed(ErrorCode.PROVIDER_ERROR, detail, permanent=False)


def _no_conversation() -> Failed:
    return Failed(
        ErrorCode.INVALID_ADDRESS,
        "this Teams method keeps no conversation with the bot: link it again",
        permanent=True,
        provider_fault=False,
        disables_method=True,
    )
