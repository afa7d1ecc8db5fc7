"""Bot Connector, the service a Teams bot talks to, through the Agents SDK's client, and
what its answers mean for a delivery.

A proactive message is ``POST {serviceUrl}/v3/conversations/{id}/activities`` with the
bot's token (OAuth client credentials for ``https://api.botframework.com``); refreshing a
sent card is ``PUT …/activities/{activity id}``. Every call goes through ``call``, which
maps the SDK's exceptions to an outcome where the library is called:

* 2xx → ``Sent`` with the activity id Bot Connector gave the message (a refresh needs it).
* 429 → ``Failed`` due again at Bot Connector's ``Retry-After``, not the fixed schedule.
* 403 (the person left the tenant, blocked or uninstalled the bot, an admin disabled it)
  and 404 (the conversation is gone) → permanent, and the Teams method is disabled with
  that reason (``disables_method``): every later page would fail the same way.
* 401, or no token (a wrong app id or password) → a transient failure that counts
  against the provider's circuit: it is tocsin's set-up, not the person, that is wrong.
* anything else → transient, retried on the usual schedule; no answer in time → unknown.

The bot's token comes from MSAL (``microsoft-agents-authentication-msal``) for the
configured tenant, or, when ``TOCSIN_TEAMS_TOKEN_URL`` names another token endpoint (an
egress proxy, a test's fake), by the plain client-credentials grant there: MSAL only
speaks to HTTPS authorities it can discover from Microsoft's cloud.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import aiohttp
import httpx
from microsoft_agents.activity import Activity
from microsoft_agents.authentication.msal import MsalAuth
from microsoft_agents.hosting.core import AgentAuthConfiguration
from microsoft_agents.hosting.core.authorization import (
    AccessTokenProviderBase,
    AuthTypes,
    ClaimsIdentity,
    Connections,
)
from microsoft_agents.hosting.core.connector.teams import TeamsConnectorClient

from tocsin.clock import Clock
from tocsin.config import Settings
from tocsin.domain.deliveries import ErrorCode, Failed, Outcome, Sent, Unknown, retry_after

BOT_FRAMEWORK = "https://api.botframework.com"
SCOPES = [f"{BOT_FRAMEWORK}/.default"]
# Bot Connector answers these when the person cannot be reached there any more.
GONE = frozenset({403, 404})
# A token is used until this long before it expires.
TOKEN_MARGIN = timedelta(minutes=5)


def auth_configuration(settings: Settings) -> AgentAuthConfiguration:
    return AgentAuthConfiguration(
        auth_type=AuthTypes.client_secret,
        client_id=settings.teams_app_id,
        tenant_id=settings.teams_tenant_id,
        client_secret=(
            settings.teams_app_password.get_secret_value() if settings.teams_app_password else None
        ),
    )


class ClientCredentials(AccessTokenProviderBase):  # type: ignore[misc]
    """The client-credentials grant at a token endpoint of one's choosing."""

    def __init__(self, url: str, app_id: str, password: str, clock: Clock) -> None:
        self.url = url
        self.app_id = app_id
        self.password = password
        self.clock = clock
        # Per scope: each token is for the scopes it was asked for.
        self._tokens: dict[str, tuple[str, datetime]] = {}
        self._lock = asyncio.Lock()

    async def get_access_token(
        self, resource_url: str, scopes: list[str], force_refresh: bool = False
    ) -> str:
        scope = " ".join(scopes or SCOPES)
        async with self._lock:
            now = self.clock.now()
            cached = self._tokens.get(scope)
            if cached is not None and now < cached[1] and not force_refresh:
                return cached[0]
            async with httpx.AsyncClient(timeout=10) as client:
                answer = await client.post(
                    self.url,
                    data={
                        "grant_type": "client_credentials",
                        "client_id": self.app_id,
                        "client_secret": self.password,
                        "scope": scope,
                    },
                )
            body = answer.json() if answer.is_success else {}
            token = body.get("access_token") if isinstance(body, dict) else None
            if not isinstance(token, str) or not token:
                raise ValueError(f"the token endpoint answered {answer.status_code}")
            expires_in = body.get("expires_in")
            life = timedelta(seconds=expires_in if isinstance(expires_in, int) else 3600)
            self._tokens[scope] = (token, now + life - TOKEN_MARGIN)
            return token


def token_provider(settings: Settings, clock: Clock) -> AccessTokenProviderBase:
    if settings.teams_token_url:
        return ClientCredentials(
            settings.teams_token_url,
            settings.teams_app_id or "",
            settings.teams_app_password.get_secret_value() if settings.teams_app_password else "",
            clock,
        )
    return MsalAuth(auth_configuration(settings))


@dataclass(frozen=True)
class Conversation:
    """Where a personal message goes: what a Teams contact method keeps in its details."""

    service_url: str
    conversation_id: str
    bot_id: str
    teams_user_id: str
    tenant_id: str

    @classmethod
    def of(cls, details: dict[str, Any]) -> Conversation | None:
        try:
            return cls(
                service_url=str(details["service_url"]),
                conversation_id=str(details["conversation_id"]),
                bot_id=str(details["bot_id"]),
                teams_user_id=str(details["teams_user_id"]),
                tenant_id=str(details["tenant_id"]),
            )
        except KeyError:
            return None


Call = Callable[[TeamsConnectorClient], Awaitable[Any]]


class BotConnector:
    def __init__(self, tokens: AccessTokenProviderBase) -> None:
        self.tokens = tokens

    async def send(self, where: Conversation, activity: Activity, *, time_limit: float) -> Outcome:
        async def send(client: TeamsConnectorClient) -> Any:
            return await client.conversations.send_to_conversation(where.conversation_id, activity)

        return await self.call(where, send, time_limit=time_limit)

    async def update(
        self, where: Conversation, activity_id: str, activity: Activity, *, time_limit: float
    ) -> Outcome:
        activity.id = activity_id

        async def update(client: TeamsConnectorClient) -> Any:
            return await client.conversations.update_activity(
                where.conversation_id, activity_id, activity
            )

        outcome = await self.call(where, update, time_limit=time_limit)
        # The activity keeps its id when updated, whatever Bot Connector answers.
        return Sent(provider_message_id=activity_id) if isinstance(outcome, Sent) else outcome

    async def call(self, where: Conversation, call: Call, *, time_limit: float) -> Outcome:
        try:
            token = await asyncio.wait_for(
                self.tokens.get_access_token(BOT_FRAMEWORK, SCOPES), time_limit
            )
        except (ValueError, TimeoutError, httpx.HTTPError, OSError) as error:
            return Failed(
                ErrorCode.PROVIDER_UNAVAILABLE, f"Teams: no bot token: {error}", permanent=False
            )
        client = TeamsConnectorClient(endpoint=where.service_url, token=token)
        try:
            answer = await asyncio.wait_for(call(client), time_limit)
        except aiohttp.ClientResponseError as error:
            return _refused(error)
        except (TimeoutError, aiohttp.ServerDisconnectedError) as error:
            return Unknown(f"Bot Connector did not answer: {type(error).__name__}")
        except (aiohttp.ClientError, OSError) as error:
            return Failed(ErrorCode.PROVIDER_UNAVAILABLE, f"Teams: {error}", permanent=False)
        finally:
            await client.close()
        return Sent(provider_message_id=str(getattr(answer, "id", None) or ""))


def _refused(error: aiohttp.ClientResponseError) -> Failed:
    detail = f"Teams: Bot Connector answered {error.status}"
    if error.status == 429:
        return Failed(
            ErrorCode.RATE_LIMITED,
            detail,
            permanent=False,
            retry_after=retry_after(error.headers.get("Retry-After") if error.headers else None),
        )
    if error.status in GONE:
        return Failed(
            ErrorCode.REVOKED, detail, permanent=True, provider_fault=False, disables_method=True
        )
    return Failed(ErrorCode.PROVIDER_ERROR, detail, permanent=False)


class OneConnection(Connections):  # type: ignore[misc]
    """The Agents SDK asks its connection manager for the token provider of each
    request; the bot has one app registration, so one answer for all."""

    def __init__(self, tokens: AccessTokenProviderBase, configuration: AgentAuthConfiguration):
        self.tokens = tokens
        self.configuration = configuration

    def get_connection(self, connection_name: str) -> AccessTokenProviderBase:
        return self.tokens

    def get_default_connection(self) -> AccessTokenProviderBase:
        return self.tokens

    def get_token_provider(
        self, claims_identity: ClaimsIdentity, service_url: str
    ) -> AccessTokenProviderBase:
        return self.tokens

    def get_default_connection_configuration(self) -> AgentAuthConfiguration:
        return self.configuration
