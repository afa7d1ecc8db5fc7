"""Signing in (password or one-time link) and out."""

from __future__ import annotations

import secrets

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from tocsin.actions.actors import Actor
from tocsin.actions.identity import logins
from tocsin.domain.access import Principal, PrincipalKind
from tocsin.errors import CsrfFailed, RateLimited
from tocsin.http import csrf
from tocsin.http.context import AppContext, context_of
from tocsin.http.deps import DbSession, Now, client_ip
from tocsin.security import tokens
from tocsin.web.live.listener import live_of
from tocsin.web.pages import redirect, render, safe_next

router = APIRouter(include_in_schema=False)


@router.get("/login")
async def login_form(request: Request, next: str = "/") -> HTMLResponse:
    return _login_page(request, next_path=next)


@router.post("/login")
async def login(request: Request, session: DbSession, now: Now) -> Response:
    context = context_of(request)
    form = await request.form()
    fields = {key: value for key, value in form.items() if isinstance(value, str)}
    next_path = safe_next(fields.get("next"))
    if not csrf.anonymous_token_valid(
        context.keys.csrf, request.cookies.get(csrf.ANONYMOUS_COOKIE), fields.get(csrf.FORM_FIELD)
    ):
        raise CsrfFailed("the login form is stale; reload the page and try again")
    try:
        outcome = await logins.login_with_password(
            session,
            email=fields.get("email", ""),
            password=fields.get("password", ""),
            ip_address=client_ip(request),
            user_agent=request.headers.get("user-agent"),
            limits=context.login_limits,
            policy=context.session_policy,
            now=now,
        )
    except RateLimited as error:
        response = _login_page(
            request,
            next_path=next_path,
            error=f"Too many failed attempts. Try again in {error.retry_after} seconds.",
            status_code=429,
            email=fields.get("email", ""),
        )
        response.headers["Retry-After"] = str(error.retry_after)
        return response
    if outcome.token is None:
        # The failure was recorded; returning (not raising) lets the transaction commit it.
        return _login_page(
            request,
            next_path=next_path,
            error="That email and password do not match an active account.",
            status_code=401,
            email=fields.get("email", ""),
        )
    return _signed_in(context, outcome.token, next_path)


@router.get("/login/link/{token}")
async def login_link_confirm(
    token: str, request: Request, session: DbSession, now: Now
) -> HTMLResponse:
    # Mail scanners and chat unfurlers fetch links: GET only shows a button, never signs in.
    user = await logins.peek_login_link(session, token=token, now=now)
    nonce, csrf_token = _anonymous_csrf(request)
    response = render(
        request,
        "login_link.html",
        link_user=user,
        anonymous_csrf=csrf_token,
        status_code=200 if user else 410,
    )
    return _bind_anonymous_csrf(request, response, nonce)


@router.post("/login/link/{token}")
async def login_link_use(token: str, request: Request, session: DbSession, now: Now) -> Response:
    context = context_of(request)
    form = await request.form()
    presented = form.get(csrf.FORM_FIELD)
    if not csrf.anonymous_token_valid(
        context.keys.csrf,
        request.cookies.get(csrf.ANONYMOUS_COOKIE),
        presented if isinstance(presented, str) else None,
    ):
        raise CsrfFailed("the page is stale; open the link again")
    outcome = await logins.redeem_login_link(
        session,
        token=token,
        ip_address=client_ip(request),
        user_agent=request.headers.get("user-agent"),
        policy=context.session_policy,
        now=now,
    )
    if outcome.token is None:
        return render(request, "login_link.html", link_user=None, status_code=410)
    return _signed_in(context, outcome.token, "/profile", notice="Signed in. Set a password below.")


@router.post("/logout")
async def logout(request: Request, session: DbSession, now: Now) -> Response:
    token = request.cookies.get(csrf.SESSION_COOKIE)
    context = context_of(request)
    if token:
        form = await request.form()
        presented = form.get(csrf.FORM_FIELD)
        if not csrf.session_token_valid(
            context.keys.csrf, token, presented if isinstance(presented, str) else None
        ):
            raise CsrfFailed("the page is stale; reload it and sign out again")
        actor = Actor(
            Principal(kind=PrincipalKind.ANONYMOUS, id=None, label="signing out"),
            client_ip(request),
            request.headers.get("user-agent"),
        )
        await logins.logout(session, actor=actor, token=token, now=now)
        live_of(request).hub.end_session(tokens.digest(token))
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(csrf.SESSION_COOKIE, path="/")
    return response


def _login_page(
    request: Request,
    *,
    next_path: str,
    error: str | None = None,
    status_code: int = 200,
    email: str = "",
) -> HTMLResponse:
    nonce, token = _anonymous_csrf(request)
    response = render(
        request,
        "login.html",
        next_path=safe_next(next_path),
        error=error,
        email=email,
        anonymous_csrf=token,
        status_code=status_code,
    )
    return _bind_anonymous_csrf(request, response, nonce)


def _anonymous_csrf(request: Request) -> tuple[str, str]:
    """A form token bound to a random cookie: before sign-in there is no session to bind to."""
    nonce = request.cookies.get(csrf.ANONYMOUS_COOKIE) or secrets.token_urlsafe(16)
    return nonce, csrf.for_anonymous(context_of(request).keys.csrf, nonce)


def _bind_anonymous_csrf(request: Request, response: HTMLResponse, nonce: str) -> HTMLResponse:
    response.set_cookie(
        csrf.ANONYMOUS_COOKIE,
        nonce,
        httponly=True,
        secure=context_of(request).settings.session_cookie_secure,
        samesite="strict",
        path="/",
    )
    return response


def _signed_in(
    context: AppContext, token: str, next_path: str, *, notice: str | None = None
) -> Response:
    response = redirect(next_path, notice=notice)
    response.set_cookie(
        csrf.SESSION_COOKIE,
        token,
        max_age=context.settings.session_max_hours * 3600,
        httponly=True,
        secure=context.settings.session_cookie_secure,
        samesite="lax",
        path="/",
    )
    response.delete_cookie(csrf.ANONYMOUS_COOKIE, path="/")
    return response
