"""The Slack channel: a page is a direct message with buttons; what it shows follows the
incident; incidents are posted to the channels a service names.

* **sent**: Slack answered ``ok: true`` with the message's ``ts``.
* **delivered**: Slack reports nothing further; sent is as far as it goes.
* **unknown**: no answer in time, or the connection dropped after the request went out.
  Slack has no idempotency key, so a re-send may post the page twice; it is re-sent all
  the same (``resend_after_unknown``), because a page possibly lost is worse than one
  possibly shown twice, and an unknown outcome is rare (a timeout of Slack's API).

Refreshing a sent page (``chat.update`` of the direct message) and keeping a channel post
in step (``chat.update``, and a thread reply per timeline event) are the follow-up lane's
calls (``engine/follow_ups.py``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from slack_sdk.web.async_client import AsyncWebClient

from tocsin.db.session import Database
from tocsin.domain.channels import ChannelKind
from tocsin.domain.deliveries import ErrorCode, Failed, Outcome, Sent
from tocsin.domain.notices import Notice
from tocsin.notify.channels.base import IncidentUpdate, PostTarget, Provider, SentPage
from tocsin.notify.channels.slack import blocks, workspaces
from tocsin.notify.channels.slack.web_api import Reference, SlackApi


@dataclass(frozen=True)
class SlackMessage:
    team_id: str
    channel: str  # a user id: Slack opens the direct message with the app
    text: str
    blocks: list[dict[str, Any]]


class SlackProvider:
    name = "slack"

    def __init__(self, api: SlackApi) -> None:
        self.api = api

    async def send(self, message: SlackMessage, *, time_limit: float) -> Outcome:
        async def post(client: AsyncWebClient) -> Any:
            return await client.chat_postMessage(
                channel=message.channel,
                text=message.text,
                blocks=message.blocks,
                unfurl_links=False,
                unfurl_media=False,
            )

        return await self.api.call(message.team_id, post, time_limit=time_limit)


def update_message(update: IncidentUpdate, *, buttons: bool) -> tuple[str, list[dict[str, Any]]]:
    facts = update.incident
    status = blocks.status_line(facts, update.acknowledged_by, update.resolved_by)
    text = f"{blocks.headline(facts, update.level)}: {status}"
    return text, blocks.incident_blocks(
        facts,
        level=update.level,
        status=status,
        buttons=buttons and facts.status != "resolved",
    )


class SlackChannel:
    kind = ChannelKind.SLACK
    intrusive = False
    supports_interactivity = True
    resend_after_unknown = True

    def __init__(self, api: SlackApi, database: Database) -> None:
        self.api = api
        self.database = database
        self._providers = [SlackProvider(api)]

    @property
    def providers(self) -> Sequence[Provider[SlackMessage]]:
        return self._providers

    def render(self, notice: Notice) -> SlackMessage:
        team_id, user_id = workspaces.split_address(notice.recipient.address)
        text, body = blocks.notice_message(notice)
        return SlackMessage(team_id=team_id, channel=user_id, text=text, blocks=body)

    async def refresh(
        self, page: SentPage, update: IncidentUpdate, *, time_limit: float
    ) -> Outcome:
        """The direct message now says who acknowledged or resolved; its buttons go once
        the incident is resolved."""
        reference = Reference.parse(page.provider_message_id)
        if reference is None:
            return _no_reference(page.provider_message_id)
        return await self._update(reference, update, time_limit=time_limit)

    async def post(
        self, target: PostTarget, update: IncidentUpdate, *, time_limit: float
    ) -> Outcome:
        team_id, channel = await self._place(target.address)
        if team_id is None:
            return Failed(
                ErrorCode.INVALID_ADDRESS,
                "several Slack workspaces are installed: "
                "name the channel as <team id>:<channel id>",
                permanent=True,
                provider_fault=False,
            )
        text, body = update_message(update, buttons=True)

        async def post(client: AsyncWebClient) -> Any:
            return await client.chat_postMessage(
                channel=channel, text=text, blocks=body, unfurl_links=False, unfurl_media=False
            )

        return await self.api.call(team_id, post, time_limit=time_limit)

    async def update(
        self, target: PostTarget, reference: str, update: IncidentUpdate, *, time_limit: float
    ) -> Outcome:
        where = Reference.parse(reference)
        if where is None:
            return _no_reference(reference)
        # The post first: it is what people look at. Then a thread line per event; one
        # that fails makes the whole update due again (the post's edit is idempotent).
        edited = await self._update(where, update, time_limit=time_limit)
        if not isinstance(edited, Sent):
            return edited
        for line in update.timeline:
            replied = await self._reply(where, line.text, time_limit=time_limit)
            if not isinstance(replied, Sent):
                return replied
        return edited

    async def _update(
        self, where: Reference, update: IncidentUpdate, *, time_limit: float
    ) -> Outcome:
        text, body = update_message(update, buttons=True)

        async def edit(client: AsyncWebClient) -> Any:
            return await client.chat_update(
                channel=where.channel, ts=where.ts, text=text, blocks=body
            )

        return await self.api.call(where.team_id, edit, time_limit=time_limit)

    async def _reply(self, where: Reference, text: str, *, time_limit: float) -> Outcome:
        async def reply(client: AsyncWebClient) -> Any:
            return await client.chat_postMessage(
                channel=where.channel, thread_ts=where.ts, text=text, unfurl_links=False
            )

        return await self.api.call(where.team_id, reply, time_limit=time_limit)

    async def _place(self, address: str) -> tuple[str | None, str]:
        if ":" in address:
            team_id, channel = address.split(":", 1)
            return team_id, channel
        async with self.database.transaction() as session:
            return await workspaces.only_workspace(session), address


def _no_reference(value: str) -> Failed:
    return Failed(
        ErrorCode.PROVIDER_ERROR, f"not a Slack message reference: {value!r}", permanent=True
    )
