"""Maintenance windows on a service's page: add one, remove one.

The form takes local wall-clock times in the window's own time zone (the viewer's by
default), because that is how people plan ("Sunday 02:00 to 04:00 Berlin time") and how
recurring windows repeat; they become instants here, by the schedules' rules.
"""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Request
from fastapi.responses import Response

from tocsin.actions.services import maintenance
from tocsin.db.models.services import MaintenanceWindow
from tocsin.http.deps import DbSession, Now
from tocsin.web import forms
from tocsin.web.confirmation import ask_first
from tocsin.web.formatting import parse_local
from tocsin.web.pages import PageActor, redirect, require_csrf
from tocsin.web.routes.services.services import service_page

router = APIRouter(prefix="/services/{service_id}/maintenance", include_in_schema=False)


@router.post("")
async def add_window(
    service_id: uuid.UUID, request: Request, session: DbSession, now: Now, signed_in: PageActor
) -> Response:
    form = await require_csrf(request, signed_in)
    zone = forms.text(form, "time_zone") or signed_in.user.time_zone

    async def act() -> MaintenanceWindow:
        return await maintenance.create_window(
            session,
            actor=signed_in.actor,
            service_id=service_id,
            starts_at=parse_local(form.get("starts_at"), zone, "starts_at"),
            ends_at=parse_local(form.get("ends_at"), zone, "ends_at"),
            recurrence=forms.text(form, "recurrence") or None,
            time_zone=zone,
            description=forms.text(form, "description"),
            now=now,
        )

    return await forms.submit(
        session,
        act,
        done=lambda _: redirect(f"/services/{service_id}", notice="Maintenance window added."),
        refused=lambda why: service_page(
            request, session, signed_in, service_id, error=why.message, status_code=422
        ),
    )


@router.post("/{window_id}/delete")
async def remove_window(
    service_id: uuid.UUID,
    window_id: uuid.UUID,
    request: Request,
    session: DbSession,
    now: Now,
    signed_in: PageActor,
) -> Response:
    fields = await require_csrf(request, signed_in)
    if (
        question := ask_first(request, signed_in, fields, back=f"/services/{service_id}")
    ) is not None:
        return question
    await maintenance.delete_window(
        session, actor=signed_in.actor, service_id=service_id, window_id=window_id, now=now
    )
    return redirect(f"/services/{service_id}", notice="Maintenance window removed.")
