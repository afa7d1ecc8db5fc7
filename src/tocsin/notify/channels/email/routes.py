"""The local outbox: the mail tocsin delivered to itself because no SMTP server is set up.

For platform admins only: the mail holds action links meant for its recipients.

A message's HTML part is served as a page of its own, so its buttons (links to the
one-time action pages) work when clicked. It is mail from outside the app's templates (an
alert's title and description are in it), so it gets a policy of its own: no script, no
plug-in, no form, no fetch, and a sandbox that gives it no origin, so it can read no
cookie and call nothing as the signed-in admin. Following a link is all it can do.
"""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from tocsin.db.models.deliveries import OutboxMessage
from tocsin.errors import NotFound
from tocsin.http.context import context_of
from tocsin.http.deps import DbSession
from tocsin.notify.channels.email import actions
from tocsin.web.pages import PageActor, render

router = APIRouter(include_in_schema=False)

MAIL_PAGE_POLICY = (
    "default-src 'none'; img-src data: https:; style-src 'unsafe-inline'; "
    "base-uri 'none'; form-action 'none'; frame-ancestors 'none'; "
    "sandbox allow-popups allow-popups-to-escape-sandbox allow-top-navigation"
)


@router.get("/outbox")
async def outbox_page(request: Request, session: DbSession, signed_in: PageActor) -> HTMLResponse:
    messages = await actions.list_messages(session, actor=signed_in.actor)
    return render(
        request,
        "outbox.html",
        signed_in=signed_in,
        messages=messages,
        smtp_configured=bool(context_of(request).settings.smtp_host),
    )


@router.get("/outbox/{message_id}")
async def outbox_message(
    request: Request, message_id: uuid.UUID, session: DbSession, signed_in: PageActor
) -> HTMLResponse:
    message = await _message(session, signed_in, message_id)
    return render(request, "outbox_message.html", signed_in=signed_in, message=message)


@router.get("/outbox/{message_id}/html")
async def outbox_message_html(
    message_id: uuid.UUID, session: DbSession, signed_in: PageActor
) -> Response:
    message = await _message(session, signed_in, message_id)
    return HTMLResponse(
        message.html_body,
        headers={"Content-Security-Policy": MAIL_PAGE_POLICY, "Referrer-Policy": "no-referrer"},
    )


async def _message(
    session: DbSession, signed_in: PageActor, message_id: uuid.UUID
) -> OutboxMessage:
    message = await actions.get_message(session, actor=signed_in.actor, message_id=message_id)
    if message is None:
        raise NotFound("outbox message", message_id)
    return message
