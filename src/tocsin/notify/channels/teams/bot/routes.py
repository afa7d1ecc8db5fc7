"""Bot Connector's requests to tocsin's Teams bot, and the page of its one-time link.

* ``POST /teams/messages``: Bot Connector's activities, hosted through the Agents SDK's
  ``CloudAdapter``. The SDK's ``JwtTokenValidator`` checks the bearer token (signature
  against Bot Framework's or Entra's published keys, or ``TOCSIN_TEAMS_KEYS_URL``'s;
  audience = the app id); tocsin then checks the issuer is one the SDK lists for the
  tenant (the SDK's validator does not), and that the token's ``serviceurl`` is the
  activity's, so a token cannot send tocsin's answers elsewhere. Anything else is a 401
  and nothing changes (``handler.py`` does the rest).
* ``GET|POST /teams/link``: the one-time link the bot answers ``link`` with (10 minutes,
  signed); opened signed in, it makes the Teams conversation a contact method of the
  person.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import jwt
from fastapi import APIRouter, Request
from fastapi.responses import Response
from microsoft_agents.activity import Activity
from microsoft_agents.hosting.core import JwtTokenValidator, TurnContext
from microsoft_agents.hosting.core.authorization import ClaimsIdentity
from microsoft_agents.hosting.fastapi import CloudAdapter
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.datastructures import State

from tocsin.actions.actors import Actor
from tocsin.db.models.users import User
from tocsin.errors import InvalidInput, NotAuthenticated, PermissionDenied
from tocsin.http.context import context_of
from tocsin.notify.channels.teams.bot import connector, conversations
from tocsin.notify.channels.teams.bot.handler import TocsinBot
from tocsin.web import account_links

router = APIRouter(include_in_schema=False)


async def _link(
    session: AsyncSession, actor: Actor, user: User, tenant_id: str, user_id: str, now: datetime
) -> object:
    return await conversations.link(
        session, actor=actor, user=user, tenant_id=tenant_id, aad_object_id=user_id, now=now
    )


# /teams/link: the link the bot answers "link" with.
LINKS = account_links.AccountLinks("teams", "tenant", _link)
LINKS.add_to(router)


class _Validator(JwtTokenValidator):  # type: ignore[misc]
    """The SDK's validator, with the keys taken from ``TOCSIN_TEAMS_KEYS_URL`` when it is
    set (the SDK names Microsoft's key URLs in code and offers no other way)."""

    def __init__(self, configuration: Any, keys_url: str | None) -> None:
        super().__init__(configuration)
        self.keys_url = keys_url

    async def _get_public_key_or_secret(self, token: str) -> Any:
        if self.keys_url is None:
            return await super()._get_public_key_or_secret(token)
        header = jwt.get_unverified_header(token)
        return await self._jwk_client_manager.get_signing_key(self.keys_url, header)


@dataclass
class _Bot:
    adapter: CloudAdapter
    handler: TocsinBot
    validator: _Validator
    issuers: frozenset[str]


async def _turn_failed(context: TurnContext, error: Exception) -> None:
    # The SDK's default prints the traceback and tells the person the exception's text in
    # the chat; tocsin lets the request fail instead, and the app's error handler logs it.
    raise error


def _bot(request: Request) -> _Bot:
    """The app's bot, built on first use (the token provider keeps its token)."""
    context = context_of(request)
    settings = context.settings
    state: State = request.app.state
    built: _Bot | None = getattr(state, "teams_bot", None)
    if built is None:
        configuration = connector.auth_configuration(settings)
        adapter = CloudAdapter(
            connection_manager=connector.OneConnection(
                connector.token_provider(settings, context.clock), configuration
            )
        )
        adapter.on_turn_error = _turn_failed
        handler = TocsinBot(
            context.database,
            context.clock,
            base_url=settings.base_url,
            link_url=lambda tenant, user: LINKS.url(context, tenant, user),
        )
        built = _Bot(
            adapter,
            handler,
            _Validator(configuration, settings.teams_keys_url),
            frozenset(configuration.ISSUERS),
        )
        state.teams_bot = built
    return built


async def _claims(request: Request, bot: _Bot) -> ClaimsIdentity:
    """The checked token's claims; 401 for anything Bot Connector did not sign for us."""
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise NotAuthenticated("Authorization: Bearer <Bot Connector token> is required")
    try:
        claims: ClaimsIdentity = await bot.validator.validate_token(token)
    except (ValueError, KeyError, jwt.PyJWTError) as error:
        raise NotAuthenticated(f"the token does not hold: {error}") from error
    if claims.claims.get("iss") not in bot.issuers:
        raise NotAuthenticated("the token's issuer is not Bot Framework's nor the tenant's")
    activity = await _activity(request)
    signed_for = claims.claims.get("serviceurl")
    if signed_for is not None and signed_for != activity.service_url:
        raise NotAuthenticated("the token was issued for another serviceUrl")
    # The registration is single tenant: people of another directory are not tocsin's.
    tenant = activity.conversation.tenant_id if activity.conversation else None
    if tenant is not None and tenant != context_of(request).settings.teams_tenant_id:
        raise PermissionDenied("this tocsin's Teams bot serves its own tenant only")
    return claims


async def _activity(request: Request) -> Activity:
    """The body as an activity; 400 naming the problem otherwise (the SDK would raise)."""
    try:
        return Activity.model_validate(await request.json())
    except ValueError as error:  # not JSON, or pydantic's ValidationError
        raise InvalidInput("body", f"not a Bot Framework activity: {error}"[:300]) from error


@router.post("/teams/messages")
async def messages(request: Request) -> Response:
    bot = _bot(request)
    request.state.claims_identity = await _claims(request, bot)
    answer: Response = await bot.adapter.process(request, bot.handler)
    return answer
