"""The pages' side of web push: the key a browser subscribes with, and the subscription
it made, posted by ``/static/push.js`` from *Profile → Notifications*."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from tocsin.http.context import context_of
from tocsin.http.deps import DbSession, Now
from tocsin.notify.channels.push import subscriptions, vapid
from tocsin.web.pages import PageActor, require_csrf

router = APIRouter(include_in_schema=False)


@router.get("/push/key")
async def public_key(request: Request) -> JSONResponse:
    key = vapid.application_server_key(vapid.load_or_create(context_of(request).settings))
    return JSONResponse({"public_key": key}, headers={"Cache-Control": "no-cache"})


@router.post("/push/subscriptions", status_code=201)
async def subscribe(
    request: Request, session: DbSession, now: Now, signed_in: PageActor
) -> JSONResponse:
    form = await require_csrf(request, signed_in)
    settings = context_of(request).settings
    subscription = subscriptions.parse(form, allow_private=settings.allow_private_destinations)
    method = await subscriptions.subscribe(
        session,
        actor=signed_in.actor,
        subscription=subscription,
        device=subscriptions.label(form.get("device", ""), request.headers.get("user-agent", "")),
        now=now,
    )
    return JSONResponse({"id": str(method.id), "label": method.label}, status_code=201)
