"""The Teams channel: incidents posted to Teams channels through Workflows webhooks.

It posts, and keeps posting: a Workflows webhook cannot edit what it posted, so every
change of the incident is a new card in the channel (acknowledged by whom, resolved).
Personal pages in Teams need tocsin's bot, registered in Azure (``bot/channel.py``,
built instead of this one when configured); without it this channel has no provider for
pages, so the rules report Teams as reaching nobody rather than pretending to send.

* **sent**: the webhook answered 2xx (Workflows answers 202 Accepted: the flow took it).
* 429 → retried at ``Retry-After``; 400, 401, 403, 404, 410 → the webhook is gone or
  refuses cards: the place is marked broken (``post_target.broken_reason``) and shown.
* no answer in time → unknown, retried (a duplicate card is the lesser harm).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

import httpx

from tocsin.domain.channels import ChannelKind
from tocsin.domain.deliveries import ErrorCode, Failed, Outcome, Sent, Unknown, retry_after
from tocsin.domain.notices import Notice
from tocsin.notify.channels.base import IncidentUpdate, PostTarget, Provider
from tocsin.notify.channels.teams import cards

GONE = frozenset({400, 401, 403, 404, 410})


class TeamsChannel:
    kind = ChannelKind.TEAMS
    intrusive = False
    supports_interactivity = False
    resend_after_unknown = True

    def __init__(self, base_url: str, *, transport: httpx.AsyncBaseTransport | None = None) -> None:
        self.base_url = base_url
        self._transport = transport

    @property
    def providers(self) -> Sequence[Provider[Any]]:
        return ()

    def render(self, notice: Notice) -> Notice:
        return notice  # never called: without providers no page is planned on Teams

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
