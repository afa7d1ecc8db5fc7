"""Calling Slack's Web API with ``slack_sdk``, and what its answers mean for a delivery.

Every call goes through ``call``, which maps the SDK's answers and exceptions to an
outcome where the library is called:

* ``ok: true`` → ``Sent`` with the reference of the message (``team:channel:ts``), which
  ``chat.update`` needs later.
* HTTP 429 → ``Failed`` due again at Slack's ``Retry-After``, not on the fixed schedule.
* an error about the token or the person (``invalid_auth``, ``token_revoked``,
  ``account_inactive``, ``channel_not_found``, ``not_in_channel``, …) → permanent, and the
  Slack method is disabled with that reason (``disables_method``): retrying cannot help,
  and every later page would fail the same way.
* anything else Slack answers → a transient failure, retried on the usual schedule.
* no answer in time, or the connection dropped after sending → unknown.

The SDK's own retry handlers are turned off: a retried ``chat.postMessage`` after a
dropped connection would post the page twice, and retries are the dispatcher's job.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

import aiohttp
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.web.async_slack_response import AsyncSlackResponse

from tocsin.clock import Clock
from tocsin.db.session import Database
from tocsin.domain.deliveries import ErrorCode, Failed, Outcome, Sent, Unknown, retry_after
from tocsin.notify.channels.slack import workspaces
from tocsin.security.encryption import Cipher

# Errors that say the token, the person or the place is gone for good.
GONE = frozenset(
    {
        "invalid_auth",
        "not_authed",
        "token_revoked",
        "token_expired",
        "account_inactive",
        "channel_not_found",
        "not_in_channel",
        "is_archived",
        "user_not_found",
        "user_disabled",
        "team_access_not_granted",
        "missing_scope",
        "ekm_access_denied",
    }
)
# How long a bot token read from the database is used before it is read again: an
# uninstall or a new install is heeded within this much.
TOKEN_TTL = timedelta(seconds=30)

Call = Callable[[AsyncWebClient], Awaitable[AsyncSlackResponse]]


@dataclass(frozen=True)
class Reference:
    """Where a message is: enough for ``chat.update`` and thread replies."""

    team_id: str
    channel: str
    ts: str

    def __str__(self) -> str:
        return f"{self.team_id}:{self.channel}:{self.ts}"

    @classmethod
    def parse(cls, value: str) -> Reference | None:
        parts = value.split(":")
        if len(parts) != 3 or not all(parts):
            return None
        return cls(*parts)


class SlackApi:
    """The Web API as tocsin's channel uses it: bot tokens looked up per workspace."""

    def __init__(self, database: Database, cipher: Cipher, clock: Clock, *, base_url: str) -> None:
        self.database = database
        self.cipher = cipher
        self.clock = clock
        self.base_url = base_url if base_url.endswith("/") else base_url + "/"
        self._tokens: dict[str, tuple[str | None, datetime]] = {}

    def client(self, token: str | None, *, time_limit: float) -> AsyncWebClient:
        return AsyncWebClient(
            token=token,
            base_url=self.base_url,
            timeout=max(1, round(time_limit)),
            retry_handlers=[],
        )

    async def token(self, team_id: str) -> str | None:
        cached = self._tokens.get(team_id)
        now = self.clock.now()
        if cached is not None and now < cached[1]:
            return cached[0]
        async with self.database.transaction() as session:
            token = await workspaces.bot_token(session, self.cipher, team_id)
        self._tokens[team_id] = (token, now + TOKEN_TTL)
        return token

    def forget(self, team_id: str) -> None:
        self._tokens.pop(team_id, None)

    async def call(self, team_id: str, call: Call, *, time_limit: float) -> Outcome:
        token = await self.token(team_id)
        if token is None:
            return Failed(
                ErrorCode.REVOKED,
                f"tocsin is not installed in Slack workspace {team_id}",
                permanent=True,
                provider_fault=False,
            )
        try:
            response = await asyncio.wait_for(
                call(self.client(token, time_limit=time_limit)), time_limit
            )
        except SlackApiError as error:
            return self._refused(team_id, error)
        except (TimeoutError, aiohttp.ServerDisconnectedError) as error:
            return Unknown(f"Slack did not answer: {type(error).__name__}")
        except (aiohttp.ClientError, SlackClientError, OSError) as error:
            return Failed(ErrorCode.PROVIDER_UNAVAILABLE, f"Slack: {error}", permanent=False)
        channel = str(response.get("channel") or "")
        ts = str(response.get("ts") or "")
        return Sent(provider_message_id=str(Reference(team_id, channel, ts)))

    def _refused(self, team_id: str, error: SlackApiError) -> Failed:
        response = error.response
        code = str(response.get("error") or f"HTTP {response.status_code}")
        if response.status_code == 429 or code == "ratelimited":
            return Failed(
                ErrorCode.RATE_LIMITED,
                "Slack: ratelimited",
                permanent=False,
                retry_after=retry_after(
                    next(
                        (v for k, v in response.headers.items() if k.lower() == "retry-after"), None
                    )
                ),
            )
        if code in GONE:
            if code in {"invalid_auth", "token_revoked", "token_expired", "not_authed"}:
                self.forget(team_id)
            return Failed(
                ErrorCode.REVOKED,
                f"Slack: {code}",
                permanent=True,
                provider_fault=False,
                disables_method=True,
            )
        return Failed(ErrorCode.PROVIDER_ERROR, f"Slack: {code}", permanent=False)
