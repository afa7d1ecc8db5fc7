"""API keys, for platform admins: create (the key is shown once), list, revoke."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Request
from fastapi.responses import Response

from tocsin.actions.identity import api_keys
from tocsin.domain.access import Scope
from tocsin.errors import InvalidInput
from tocsin.http.deps import DbSession, Now
from tocsin.web.confirmation import ask_first
from tocsin.web.pages import PageActor, redirect, render, require_csrf

router = APIRouter(prefix="/admin/api-keys", include_in_schema=False)


@router.get("")
async def list_keys(request: Request, session: DbSession, signed_in: PageActor) -> Response:
    page = await api_keys.list_api_keys(session, actor=signed_in.actor, cursor=None, limit=200)
    return render(
        request,
        "admin/api_keys.html",
        signed_in=signed_in,
        keys=page.items,
        scopes=list(Scope),
        issued=None,
    )


@router.post("")
async def create_key(
    request: Request, session: DbSession, now: Now, signed_in: PageActor
) -> Response:
    await require_csrf(request, signed_in)
    form = await request.form()
    chosen = [
        value for value in form.getlist("scopes") if isinstance(value, str) and value in set(Scope)
    ]
    name = form.get("name")
    try:
        # A savepoint: a refusal leaves the session usable (see web/forms.py).
        async with session.begin_nested():
            issued = await api_keys.create_api_key(
                session,
                actor=signed_in.actor,
                name=name if isinstance(name, str) else "",
                scopes=[Scope(value) for value in chosen],
                now=now,
            )
    except InvalidInput as error:
        return redirect("/admin/api-keys", error=f"Not created: {error.detail}")
    page = await api_keys.list_api_keys(session, actor=signed_in.actor, cursor=None, limit=200)
    return render(
        request,
        "admin/api_keys.html",
        signed_in=signed_in,
        keys=page.items,
        scopes=list(Scope),
        issued=issued,
    )


@router.post("/{key_id}/revoke")
async def revoke_key(
    key_id: uuid.UUID, request: Request, session: DbSession, now: Now, signed_in: PageActor
) -> Response:
    fields = await require_csrf(request, signed_in)
    back = "/admin/api-keys"
    if question := ask_first(request, signed_in, fields, back=back):
        return question
    key = await api_keys.revoke_api_key(session, actor=signed_in.actor, key_id=key_id, now=now)
    return redirect("/admin/api-keys", notice=f"Revoked {key.name}.")
