"""The one-time link a chat app answers "link" with, so that a person proves, signed in to
tocsin, that a chat account is theirs (``/tocsin link`` in Slack, ``link`` to the Teams
bot).

The chat app vouches for who typed the command (the channel verified its request); the
link carries that word to the person's browser. It names the account (its workspace or
tenant, and its user) and when it expires, signed with a key derived from the
installation's secret for this channel alone, so a link cannot be forged, widened to
another account, or used for another channel. Opened, it asks the signed-in person to
confirm; the confirming post links the account through the channel's own ``link``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from sqlalchemy.ext.asyncio import AsyncSession

from tocsin.actions.actors import Actor
from tocsin.db.models.users import User
from tocsin.errors import Conflict, NotFound
from tocsin.http.context import AppContext, context_of
from tocsin.security import secret_key, tokens
from tocsin.web.pages import PageActor, render, require_csrf

LIFE = timedelta(minutes=10)
# Unix seconds: more digits than this is not one.
TIMESTAMP_DIGITS = 12


# Stores the link (the account becomes a verified contact method of ``user``), or raises
# ``Conflict`` / ``NotFound`` with what stands in the way.
Linker = Callable[[AsyncSession, Actor, User, str, str, datetime], Awaitable[object]]


@dataclass(frozen=True)
class AccountLinks:
    channel: str  # "slack": the path (/slack/link), the template, the signing key
    scope: str  # the query name of the account's workspace or tenant
    link: Linker

    @property
    def path(self) -> str:
        return f"/{self.channel}/link"

    def url(self, context: AppContext, scope_id: str, user_id: str) -> str:
        expires = int(context.clock.now().timestamp() + LIFE.total_seconds())
        signed = tokens.sign(self._secret(context), f"{scope_id}:{user_id}:{expires}")
        query = urlencode(
            {self.scope: scope_id, "user": user_id, "expires": expires, "sig": signed}
        )
        return f"{context.settings.base_url}{self.path}?{query}"

    def target(self, request: Request) -> tuple[str, str] | None:
        """The account a link names, if its signature holds and it has not expired."""
        context = context_of(request)
        params = request.query_params
        scope_id, user_id = params.get(self.scope, ""), params.get("user", "")
        expires, signature = params.get("expires", ""), params.get("sig", "")
        if not expires.isdigit() or len(expires) > TIMESTAMP_DIGITS:
            return None
        if int(expires) < context.clock.now().timestamp():
            return None
        message = f"{scope_id}:{user_id}:{expires}"
        if not tokens.signature_matches(self._secret(context), message, signature):
            return None
        return scope_id, user_id

    def add_to(self, router: APIRouter) -> None:
        """The link's page on the channel's ``router``: ``GET`` asks the signed-in person;
        ``POST`` (their confirmation) links."""
        template = f"{self.channel}/link.html"

        @router.get(self.path)
        async def ask(request: Request, signed_in: PageActor) -> HTMLResponse:
            state = "ask" if self.target(request) else "broken"
            return render(
                request, template, signed_in=signed_in, state=state, query=request.url.query
            )

        @router.post(self.path)
        async def confirm(request: Request, signed_in: PageActor) -> HTMLResponse:
            await require_csrf(request, signed_in)
            target = self.target(request)
            if target is None:
                return render(request, template, signed_in=signed_in, state="broken", query="")
            context = context_of(request)
            try:
                async with context.database.transaction() as session:
                    user = await session.get(User, signed_in.user.id)
                    assert user is not None  # signed in this very request
                    await self.link(session, signed_in.actor, user, *target, context.clock.now())
            except (Conflict, NotFound) as error:
                return render(
                    request,
                    template,
                    signed_in=signed_in,
                    state="taken",
                    detail=error.detail,
                    query="",
                    status_code=409,
                )
            return render(request, template, signed_in=signed_in, state="done", query="")

    def _secret(self, context: AppContext) -> bytes:
        installation = secret_key.load_or_create(context.settings)
        return secret_key.derive(installation, f"tocsin {self.channel} link v1")
