"""What every page handler shares: rendering, the signed-in person, and CSRF on forms.

A page handler gets the person through ``PageActor`` (a visitor who is not signed in is
sent to the login page and brought back afterwards), checks the form's CSRF token with
``require_csrf``, calls one action and renders a template or redirects.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote, unquote

from fastapi import Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.templating import Jinja2Templates

from tocsin import __version__
from tocsin.actions import principals
from tocsin.actions.actors import Actor
from tocsin.actions.identity import logins
from tocsin.actions.incidents import queries as incident_queries
from tocsin.db.models.users import User
from tocsin.domain.access import Action, is_allowed
from tocsin.errors import CsrfFailed
from tocsin.http import csrf
from tocsin.http.context import context_of
from tocsin.http.deps import DbSession, Now, client_ip
from tocsin.web import formatting

TEMPLATES = Jinja2Templates(directory=Path(__file__).parent / "templates")
formatting.install(TEMPLATES.env)
STATIC_DIR = Path(__file__).parent / "static"


class LoginRequired(Exception):
    """Raised by ``PageActor`` for a visitor without a valid session."""

    def __init__(self, next_path: str) -> None:
        super().__init__(next_path)
        self.next_path = next_path


@dataclass(frozen=True)
class SignedIn:
    user: User
    actor: Actor
    session_token: str
    # Open incidents of the viewer's teams: "(3) tocsin" in the tab title and the nav,
    # kept live by ``static/live.js``.
    open_count: int = 0

    def can(self, action: Action, **kwargs: Any) -> bool:
        return is_allowed(self.actor.principal, action, **kwargs)


async def _page_actor(request: Request, session: DbSession, now: Now) -> SignedIn:
    token = request.cookies.get(csrf.SESSION_COOKIE)
    resolved = None
    if token:
        resolved = await logins.resolve_session(
            session, token=token, policy=context_of(request).session_policy, now=now
        )
    if token is None or resolved is None:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        raise LoginRequired(target)
    user, _ = resolved
    principal = await principals.user_principal(session, user)
    actor = Actor(principal, client_ip(request), request.headers.get("user-agent"))
    open_count = await incident_queries.count_open_of_teams(
        session, actor=actor, team_ids=list(principal.team_roles)
    )
    return SignedIn(user, actor, token, open_count)


PageActor = Annotated[SignedIn, Depends(_page_actor)]


async def require_csrf(request: Request, signed_in: SignedIn) -> dict[str, str]:
    """The submitted form, once its CSRF token is verified."""
    form = await request.form()
    fields = {key: value for key, value in form.items() if isinstance(value, str)}
    presented = fields.get(csrf.FORM_FIELD) or request.headers.get(csrf.HEADER)
    if not csrf.session_token_valid(
        context_of(request).keys.csrf, signed_in.session_token, presented
    ):
        raise CsrfFailed("the form is stale or was not sent by tocsin; reload the page")
    return fields


def render(
    request: Request,
    template: str,
    *,
    signed_in: SignedIn | None = None,
    status_code: int = 200,
    **values: Any,
) -> HTMLResponse:
    context = context_of(request)
    csrf_token = csrf.for_session(context.keys.csrf, signed_in.session_token) if signed_in else None
    flashes = read_flash(request)
    response = TEMPLATES.TemplateResponse(
        request,
        template,
        {
            "me": signed_in.user if signed_in else None,
            "signed_in": signed_in,
            "csrf_token": csrf_token,
            "version": __version__,
            "Action": Action,
            **flashes,
            **values,
        },
        status_code=status_code,
    )
    if flashes:
        response.delete_cookie(FLASH_COOKIE, path="/")
    return response


# What the page after a redirect says happened ("Saved.", or "Not saved: …" in red) travels
# in a cookie only tocsin sets, read once and deleted, never in the URL: a link carrying
# its own text (``?notice=Your account is locked, call …``) would otherwise be shown in
# tocsin's own banner, a gift to phishing.
FLASH_COOKIE = "tocsin_flash"
FLASH_KINDS = ("notice", "error")


def redirect(path: str, *, notice: str | None = None, error: str | None = None) -> RedirectResponse:
    """A 303 to ``path``, whose page then says ``notice`` (done) and ``error`` (refused);
    both when a change was partly done ("Acknowledged #3." and "#4 was already resolved.")."""
    response = RedirectResponse(path, status_code=303)
    # Each part quoted on its own, so "&" (quoted as %26 inside a part) separates them.
    said = (("notice", notice), ("error", error))
    parts = [quote(f"{kind}:{text[:500]}") for kind, text in said if text]
    if parts:
        response.set_cookie(
            FLASH_COOKIE,
            "&".join(parts),
            max_age=60,
            httponly=True,
            samesite="lax",
            path="/",
        )
    return response


def read_flash(request: Request) -> dict[str, str]:
    """What the redirect said, by kind ("notice", "error")."""
    found: dict[str, str] = {}
    for part in request.cookies.get(FLASH_COOKIE, "").split("&"):
        kind, _, text = unquote(part).partition(":")
        if kind in FLASH_KINDS and text:
            found[kind] = text
    return found


def safe_next(path: str | None) -> str:
    """Only same-site paths: never redirect to another origin after login."""
    if path and path.startswith("/") and not path.startswith("//") and "\\" not in path:
        return path
    return "/"
