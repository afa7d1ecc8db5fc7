"""The local outbox: the mail tocsin delivered to itself because no SMTP server is set up.

For platform admins only: the mail holds action links meant for its recipients.
"""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from tocsin.errors import NotFound
from tocsin.http.context import context_of
from tocsin.http.deps import DbSession
from tocsin.notify.channels.email import actions
from tocsin.web.pages import PageActor, render

router = APIRouter(include_in_schema=False)


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
    message = await actions.get_message(session, actor=signed_in.actor, message_id=message_id)
    if message is None:
        raise NotFound("outbox message", message_id)
    return render(request, "outbox_message.html", signed_in=signed_in, message=message)
