"""One-click links from email: a confirmation page (GET) and the action (POST).

GET only reads, so a mail scanner that prefetches the link changes nothing. POST owns its
transaction: the token is consumed and the incident changed together, and when the action
fails (someone else acknowledged first) the whole transaction rolls back and the page says
who did and when. Links are built from the configured public URL, never the Host header.
Both read who is signed in in the browser, so the page and the button refuse the same
people.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from sqlalchemy.ext.asyncio import AsyncSession

from tocsin.actions.identity import logins
from tocsin.actions.notify import magic_links
from tocsin.errors import PermissionDenied, StaleTransition
from tocsin.http.context import context_of
from tocsin.http.csrf import SESSION_COOKIE
from tocsin.http.deps import client_ip
from tocsin.notify import wording
from tocsin.web.pages import render

router = APIRouter(include_in_schema=False)
NO_REFERRER = {"Referrer-Policy": "no-referrer", "Cache-Control": "no-store"}


@router.get("/magic/{token}")
async def confirm(request: Request, token: str) -> HTMLResponse:
    context = context_of(request)
    now = context.clock.now()
    async with context.database.transaction() as session:
        signed_in = await _signed_in(request, session)
        inspected = await magic_links.inspect(session, token=token, now=now, signed_in=signed_in)
        return _page(request, inspected, token=token)


@router.post("/magic/{token}")
async def act(request: Request, token: str) -> Response:
    context = context_of(request)
    now = context.clock.now()
    try:
        async with context.database.transaction() as session:
            outcome = await magic_links.use(
                session,
                token=token,
                now=now,
                ip_address=client_ip(request),
                signed_in=await _signed_in(request, session),
            )
            if isinstance(outcome, magic_links.Inspected):
                if _wants_json(request):
                    return _json(outcome.state.value, _UNUSABLE[outcome.state], 409)
                return _page(request, outcome, token=token)
            if _wants_json(request):
                done = outcome.changed[0].status.value.capitalize()
                numbers = ", ".join(f"#{incident.number}" for incident in outcome.changed)
                return _json("done", f"{done}: {numbers}", 200)
            return _respond(
                request,
                "magic_link.html",
                state="done",
                action=outcome.changed[0].status.value,
                incidents=outcome.changed,
                already=outcome.already,
            )
    except StaleTransition as lost:
        if _wants_json(request):
            return _json("lost", f"Nothing changed: {wording.already(lost)}", 409)
        return _respond(request, "magic_link.html", state="lost", lost=lost, status_code=409)
    except PermissionDenied as denied:
        if _wants_json(request):
            return _json("denied", denied.detail, 403)
        return _respond(
            request, "magic_link.html", state="denied", detail=denied.detail, status_code=403
        )


# The app's service worker acts from a notification's button without a page to show:
# it asks for JSON and shows the answer as a notification.
_UNUSABLE = {
    magic_links.LinkState.USABLE: "Nothing changed",
    magic_links.LinkState.USED: "This button was used already",
    magic_links.LinkState.EXPIRED: "This button has expired: open the incident",
    magic_links.LinkState.UNKNOWN: "This button is not known to tocsin",
    magic_links.LinkState.FOREIGN: "This button is for someone else than who is signed in",
}


def _wants_json(request: Request) -> bool:
    return "application/json" in request.headers.get("accept", "")


def _json(state: str, detail: str, status: int) -> JSONResponse:
    return JSONResponse({"state": state, "detail": detail}, status_code=status, headers=NO_REFERRER)


async def _signed_in(request: Request, session: AsyncSession) -> uuid.UUID | None:
    """Who is signed in in this browser, if anyone (an expired session is no one)."""
    cookie = request.cookies.get(SESSION_COOKIE)
    if not cookie:
        return None
    context = context_of(request)
    resolved = await logins.resolve_session(
        session, token=cookie, policy=context.session_policy, now=context.clock.now()
    )
    return resolved[0].id if resolved else None


def _page(request: Request, inspected: magic_links.Inspected, *, token: str) -> HTMLResponse:
    status = {
        magic_links.LinkState.USABLE: 200,
        magic_links.LinkState.USED: 200,
        magic_links.LinkState.UNKNOWN: 404,
        magic_links.LinkState.EXPIRED: 410,
        magic_links.LinkState.FOREIGN: 403,
    }[inspected.state]
    zone = inspected.recipient.time_zone if inspected.recipient else "UTC"
    return _respond(
        request,
        "magic_link.html",
        state=inspected.state.value,
        link=inspected.link,
        recipient=inspected.recipient,
        incidents=inspected.incidents,
        token=token,
        zone=zone,
        status_code=status,
    )


def _respond(
    request: Request, template: str, *, status_code: int = 200, **values: Any
) -> HTMLResponse:
    values.setdefault("zone", "UTC")
    zone = values["zone"]

    def already_said(lost: StaleTransition) -> str:
        """``Incident #12 is already acknowledged by Ada, Mon 5 Jan 2026 10:02 CET``: in
        the reader's words and time zone, not the API's."""
        at = lost.extensions.get("at")
        when = f", {wording.local_time(datetime.fromisoformat(at), zone)}" if at else ""
        number = lost.extensions.get("number")
        subject = f"Incident #{number}" if number else "The incident"
        return f"{subject} is {wording.already(lost)}{when}"

    response = render(
        request,
        template,
        status_code=status_code,
        local=wording.local_time,
        already_said=already_said,
        **values,
    )
    response.headers.update(NO_REFERRER)
    return response
