"""Confirming an email address from the link mailed to it: GET shows what the button does
(mail scanners prefetch links), POST confirms. The token is the proof of the mailbox, so
no sign-in is needed."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from tocsin.actions.actors import system_actor
from tocsin.actions.identity import contact_methods
from tocsin.errors import NotFound
from tocsin.http.context import context_of
from tocsin.web.pages import render

router = APIRouter(include_in_schema=False)
LINK_ACTOR = system_actor("email verification link")


@router.get("/verify/{token}")
async def confirm(request: Request, token: str) -> HTMLResponse:
    response = render(request, "verify.html", token=token, state="ask")
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


@router.post("/verify/{token}")
async def verify(request: Request, token: str) -> HTMLResponse:
    context = context_of(request)
    try:
        async with context.database.transaction() as session:
            method = await contact_methods.verify_link(
                session, actor=LINK_ACTOR, token=token, now=context.clock.now()
            )
            address = method.address
    except NotFound:
        return render(request, "verify.html", token=token, state="invalid", status_code=404)
    return render(request, "verify.html", token=token, state="done", address=address)
