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

With token rotation on (the install answered a ``refresh_token`` and ``expires_in``),
the bot token lasts 12 hours. It is renewed with ``oauth.v2.access``
(``grant_type=refresh_token``) when a call is due within ``REFRESH_BEFORE`` of its
expiry, and once on a ``token_expired`` answer (then the call is made again: Slack did
nothing with the expired token, so the retry cannot post twice). Workers renew
independently: the new tokens are stored with a conditional UPDATE on the refresh token
the renewal started from, and a worker that lost that race uses the winner's tokens. A
refresh Slack refuses for good (``invalid_refresh_token``) disables the workspace,
shown on the notification settings page, until a team admin installs tocsin again.
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
from sqlalchemy.ext.asyncio import AsyncSession

from tocsin.clock import Clock
from tocsin.config import Settings
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
# A rotating token is renewed this long before it expires, so no call carries a token
# that expires on the way (and a slow refresh still has time to be retried).
REFRESH_BEFORE = timedelta(minutes=5)
# Refresh answers that no retry can change: the workspace must be installed again.
REFRESH_REFUSED = frozenset(
    {"invalid_refresh_token", "invalid_grant", "token_revoked", "invalid_auth"}
)

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
    """The Web API as tocsin's channel uses it: bot tokens looked up per workspace, and
    renewed when token rotation is on."""

    def __init__(
        self,
        database: Database,
        cipher: Cipher,
        clock: Clock,
        *,
        base_url: str,
        client_id: str,
        client_secret: str,
    ) -> None:
        self.database = database
        self.cipher = cipher
        self.clock = clock
        self.base_url = base_url if base_url.endswith("/") else base_url + "/"
        self.client_id = client_id
        self.client_secret = client_secret
        self._tokens: dict[str, tuple[workspaces.Tokens | None, datetime]] = {}
        # One renewal at a time per workspace in this process; other processes are kept
        # apart by the conditional UPDATE (``workspaces.rotate``).
        self._renewing: dict[str, asyncio.Lock] = {}

    @classmethod
    def of(cls, settings: Settings, database: Database, cipher: Cipher, clock: Clock) -> SlackApi:
        secret = settings.slack_client_secret
        return cls(
            database,
            cipher,
            clock,
            base_url=settings.slack_api_url,
            client_id=settings.slack_client_id or "",
            client_secret=secret.get_secret_value() if secret else "",
        )

    def client(self, token: str | None, *, time_limit: float) -> AsyncWebClient:
        return AsyncWebClient(
            token=token,
            base_url=self.base_url,
            timeout=max(1, round(time_limit)),
            retry_handlers=[],
        )

    async def tokens(self, team_id: str) -> workspaces.Tokens | None:
        cached = self._tokens.get(team_id)
        now = self.clock.now()
        if cached is not None and now < cached[1]:
            return cached[0]
        return await self._read(team_id)

    async def _read(self, team_id: str) -> workspaces.Tokens | None:
        async with self.database.transaction() as session:
            found = await workspaces.tokens(session, self.cipher, team_id)
        self._tokens[team_id] = (found, self.clock.now() + TOKEN_TTL)
        return found

    def forget(self, team_id: str) -> None:
        self._tokens.pop(team_id, None)

    async def call(self, team_id: str, call: Call, *, time_limit: float) -> Outcome:
        tokens = await self.tokens(team_id)
        if tokens is None:
            return _not_installed(team_id)
        if tokens.due(self.clock.now(), REFRESH_BEFORE):
            renewed = await self.renew(team_id, tokens, time_limit=time_limit)
            if not isinstance(renewed, workspaces.Tokens):
                return renewed
            tokens = renewed
        outcome = await self._attempt(team_id, tokens.bot_token, call, time_limit=time_limit)
        if not isinstance(outcome, _Expired):
            return outcome
        if tokens.refresh_token is not None:
            renewed = await self.renew(team_id, tokens, time_limit=time_limit, expired=True)
            if not isinstance(renewed, workspaces.Tokens):
                return renewed
            outcome = await self._attempt(team_id, renewed.bot_token, call, time_limit=time_limit)
        if isinstance(outcome, _Expired):
            # Without rotation a token never expires: Slack says it did all the same.
            self.forget(team_id)
            return _gone("token_expired")
        return outcome

    async def renew(
        self, team_id: str, stale: workspaces.Tokens, *, time_limit: float, expired: bool = False
    ) -> workspaces.Tokens | Failed:
        """New tokens for ``stale`` ones, from Slack, or from whoever renewed them first.

        The workspace's row is locked (``FOR UPDATE SKIP LOCKED``) while Slack is asked:
        a refresh token is good for one renewal, so two workers must not both spend it. A
        worker that finds the row locked does not wait: it uses the tokens it has while
        they last, or fails this attempt (retried shortly) when Slack said they expired.
        The lock is held across one short call made about twice a day, and a worker that
        dies meanwhile releases it with its connection, unlike a lease."""
        async with self._renewing.setdefault(team_id, asyncio.Lock()):
            async with self.database.transaction() as session:
                mine = await workspaces.lock_for_renewal(
                    session, self.cipher, team_id=team_id, version=stale.version
                )
                if mine is not None:
                    renewed = await self._ask_slack(team_id, mine, time_limit=time_limit)
                    if isinstance(renewed, workspaces.Tokens):
                        await workspaces.rotate(
                            session,
                            self.cipher,
                            team_id=team_id,
                            previous=mine,
                            renewed=renewed,
                            now=self.clock.now(),
                        )
                    elif renewed.permanent:
                        await self._refresh_refused(session, team_id, renewed.detail)
                        return renewed
                    else:
                        return renewed
            current = await self._read(team_id)
            if current is None:
                return _not_installed(team_id)
            if current.version != stale.version:
                return current  # renewed: here, or by another worker first
            if expired or current.due(self.clock.now(), timedelta(0)):
                return Failed(
                    ErrorCode.PROVIDER_UNAVAILABLE,
                    "the Slack bot token is being renewed by another tocsin worker",
                    permanent=False,
                    provider_fault=False,
                )
            return current  # being renewed elsewhere; still valid for a few minutes

    async def _ask_slack(
        self, team_id: str, current: workspaces.Tokens, *, time_limit: float
    ) -> workspaces.Tokens | Failed:
        now = self.clock.now()
        try:
            answer = await asyncio.wait_for(
                self.client(None, time_limit=time_limit).oauth_v2_access(
                    client_id=self.client_id,
                    client_secret=self.client_secret,
                    grant_type="refresh_token",
                    refresh_token=current.refresh_token,
                ),
                time_limit,
            )
        except SlackApiError as error:
            code = str(error.response.get("error") or f"HTTP {error.response.status_code}")
            if code in REFRESH_REFUSED:
                return Failed(
                    ErrorCode.REVOKED,
                    f"Slack refused to renew the bot token of workspace {team_id}: {code}",
                    permanent=True,
                    provider_fault=False,
                )
            return Failed(ErrorCode.PROVIDER_ERROR, f"Slack token refresh: {code}", permanent=False)
        except (TimeoutError, aiohttp.ClientError, SlackClientError, OSError) as error:
            # Nothing was sent to anyone yet: a plain transient failure, not unknown.
            return Failed(
                ErrorCode.PROVIDER_UNAVAILABLE,
                f"Slack token refresh: {type(error).__name__}",
                permanent=False,
            )
        token = str(answer.get("access_token") or "")
        if not token:
            return Failed(
                ErrorCode.PROVIDER_ERROR,
                "Slack token refresh answered no access_token",
                permanent=False,
            )
        expires_in = answer.get("expires_in")
        return workspaces.Tokens(
            bot_token=token,
            refresh_token=str(answer.get("refresh_token") or current.refresh_token),
            expires_at=now + timedelta(seconds=expires_in) if isinstance(expires_in, int) else None,
            version=None,
        )

    async def _refresh_refused(self, session: AsyncSession, team_id: str, detail: str) -> None:
        code = detail.rsplit(": ", 1)[-1]
        await workspaces.disable(
            session,
            team_id=team_id,
            reason=f"Slack refused to renew the bot token ({code}): install tocsin again",
            now=self.clock.now(),
        )
        self.forget(team_id)

    async def _attempt(
        self, team_id: str, token: str, call: Call, *, time_limit: float
    ) -> Outcome | _Expired:
        try:
            response = await asyncio.wait_for(
                call(self.client(token, time_limit=time_limit)), time_limit
            )
        except SlackApiError as error:
            if error.response.get("error") == "token_expired":
                return _EXPIRED
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
            return _gone(code)
        return Failed(ErrorCode.PROVIDER_ERROR, f"Slack: {code}", permanent=False)


class _Expired:
    """Slack answered ``token_expired``: renew and call again, once."""


_EXPIRED = _Expired()


def _gone(code: str) -> Failed:
    return Failed(
        ErrorCode.REVOKED,
        f"Slack: {code}",
        permanent=True,
        provider_fault=False,
        disables_method=True,
    )


def _not_installed(team_id: str) -> Failed:
    return Failed(
        ErrorCode.REVOKED,
        f"tocsin is not installed in Slack workspace {team_id}",
        permanent=True,
        provider_fault=False,
    )
