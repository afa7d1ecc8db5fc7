"""Request dependencies: the transaction, the clock, and who is acting.

``db_session`` has FastAPI's ``function`` scope: the transaction commits when the endpoint
returns and *before* the response is sent, so a 2xx is only ever sent for a committed
change, and a failing commit becomes an error response instead of a lie.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime
from typing import Annotated

from fastapi import Depends, Request, Security
from fastapi.security import APIKeyCookie, HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.ext.asyncio import AsyncSession

from tocsin.actions import principals
from tocsin.actions.actors import Actor
from tocsin.actions.identity import api_keys, logins
from tocsin.errors import CsrfFailed, NotAuthenticated
from tocsin.http import csrf
from tocsin.http.context import context_of


async def _session(request: Request) -> AsyncIterator[AsyncSession]:
    async with context_of(request).database.transaction() as session:
        yield session


DbSession = Annotated[AsyncSession, Depends(_session, scope="function")]


async def _now(request: Request) -> datetime:
    # ``async`` on purpose: FastAPI runs plain ``def`` dependencies in a thread pool, and
    # that hand-off (and the GIL contention it brings) cost several ms per request.
    return context_of(request).clock.now()


Now = Annotated[datetime, Depends(_now)]


def client_ip(request: Request) -> str | None:
    return request.client.host if request.client else None


# The two ways to authenticate, as security schemes: FastAPI lists them in the OpenAPI
# document on every operation that needs an actor, as alternatives, so Swagger UI, code
# generators and API fuzzers know how to authenticate. Neither refuses by itself.
API_KEY = HTTPBearer(
    scheme_name="apiKey",
    bearerFormat="tsk_…",
    description="An API key: `Authorization: Bearer tsk_…` (`tocsin api-keys create`)",
    auto_error=False,
)
SESSION = APIKeyCookie(
    name=csrf.SESSION_COOKIE,
    scheme_name="session",
    description=(
        "A browser session (sign in at /login); requests that change state also send "
        "the `X-CSRF-Token` header"
    ),
    auto_error=False,
)


async def _actor(
    request: Request,
    session: DbSession,
    now: Now,
    bearer: Annotated[HTTPAuthorizationCredentials | None, Security(API_KEY)],
    token: Annotated[str | None, Security(SESSION)],
) -> Actor:
    context = context_of(request)
    user_agent = request.headers.get("user-agent")
    if bearer is not None:
        principal = await api_keys.authenticate(session, secret=bearer.credentials, now=now)
        return Actor(principal, client_ip(request), user_agent)
    if request.headers.get("authorization") is not None:
        # Another scheme, or a Bearer without a key: a credential was meant, and is wrong.
        raise NotAuthenticated("use Authorization: Bearer <api key>")
    if token:
        resolved = await logins.resolve_session(
            session, token=token, policy=context.session_policy, now=now
        )
        if resolved is not None:
            if request.method not in csrf.SAFE_METHODS and not csrf.session_token_valid(
                context.keys.csrf, token, request.headers.get(csrf.HEADER)
            ):
                raise CsrfFailed("missing or wrong CSRF token")
            user, _ = resolved
            principal = await principals.user_principal(session, user)
            return Actor(principal, client_ip(request), user_agent)
    raise NotAuthenticated("send an API key as Authorization: Bearer <key>, or sign in")


CurrentActor = Annotated[Actor, Depends(_actor)]
