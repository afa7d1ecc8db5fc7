"""The Teams channel with tocsin's bot: personal pages, besides the Workflows posts of
``TeamsChannel``.

A page is a proactive message in the person's chat with the bot, an Adaptive Card whose
buttons act in place (``handler.py``); the card is updated when the incident changes
(``refresh``, the follow-up lane's call).

* **sent**: Bot Connector answered 2xx with the activity's id.
* **delivered**: Teams reports nothing further; sent is as far as it goes.
* **unknown**: no answer in time. Bot Connector has no idempotency key, so a re-send may
  show the page twice; it is re-sent all the same (``resend_after_unknown``): a page
  possibly lost is worse than one possibly shown twice.
* 429 → due again at ``Retry-After``; 403 / 404 (left the tenant, bot removed or blocked)
  → permanent, the method disabled and shown (``connector.py``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from microsoft_agents.activity import Activity

from tocsin.domain.deliveries import ErrorCode, Failed, Outcome
from tocsin.domain.notices import Notice
from tocsin.notify.channels.base import IncidentUpdate, Provider, SentPage
from tocsin.notify.channels.teams import cards as post_cards
from tocsin.notify.channels.teams.bot import cards
from tocsin.notify.channels.teams.bot.connector import BotConnector, Conversation
from tocsin.notify.channels.teams.channel import TeamsChannel


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


class TeamsBotChannel(TeamsChannel):
    supports_interactivity = True

    def __init__(self, base_url: str, connector: BotConnector) -> None:
        super().__init__(base_url)
        self.connector = connector
        self._providers = [BotProvider(connector)]

    @property
    def providers(self) -> Sequence[Provider[TeamsPage]]:
        return self._providers

    def render(self, notice: Notice) -> TeamsPage:  # type: ignore[override]
        summary, card = cards.notice_card(notice)
        return TeamsPage(
            Conversation.of(notice.recipient.method_details), cards.activity(summary, card)
        )

    async def refresh(
        self, page: SentPage, update: IncidentUpdate, *, time_limit: float
    ) -> Outcome:
        """The card now says who acknowledged or resolved; its buttons follow the state."""
        conversation = Conversation.of(page.method_details)
        if conversation is None:
            return _no_conversation()
        status = post_cards.status_line(update)
        summary = f"#{update.incident.number} {update.incident.title}: {status}"
        activity = cards.activity(summary, cards.updated_card(update))
        return await self.connector.update(
            conversation, page.provider_message_id, activity, time_limit=time_limit
        )


def _no_conversation() -> Failed:
    return Failed(
        ErrorCode.INVALID_ADDRESS,
        "this Teams method keeps no conversation with the bot: link it again",
        permanent=True,
        provider_fault=False,
        disables_method=True,
    )
