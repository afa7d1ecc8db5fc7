"""Where a Teams Workflows card's buttons lead: a confirmation page, then the action as
the person who confirms (the bot's requests are ``bot/routes.py``'s).

``GET /teams/incidents/{id}/{acknowledge|resolve}`` asks (a link preview or a scanner
that fetches the URL changes nothing); the form posts back, signed in and with its CSRF
token, and the change is made through ``actions/`` like any other, "via Teams". A lost
race is shown on the incident page, which says who got there first, as for the page's
own buttons (``web/routes/incidents/changes.attempt``).
"""

from __future__ import annotations

import uuid
from typing import Literal

from fastapi import APIRouter, Request
from fastapi.responses import Response

from tocsin.actions.incidents import incidents, queries
from tocsin.http.context import context_of
from tocsin.http.deps import DbSession
from tocsin.web.pages import PageActor, render, require_csrf
from tocsin.web.routes.incidents.changes import attempt

router = APIRouter(prefix="/teams/incidents/{incident_id}", include_in_schema=False)
VIA = "teams"
Change = Literal["acknowledge", "resolve"]


@router.get("/{change}")
async def confirm(
    incident_id: uuid.UUID,
    change: Change,
    request: Request,
    session: DbSession,
    signed_in: PageActor,
) -> Response:
    incident = await queries.get_incident(session, actor=signed_in.actor, incident_id=incident_id)
    return render(
        request, "teams/confirm.html", signed_in=signed_in, incident=incident, change=change
    )


@router.post("/{change}")
async def act(
    incident_id: uuid.UUID,
    change: Change,
    request: Request,
    session: DbSession,
    signed_in: PageActor,
) -> Response:
    await require_csrf(request, signed_in)
    now = context_of(request).clock.now()
    change_of = incidents.acknowledge if change == "acknowledge" else incidents.resolve
    # The incident page's own buttons' path: a lost race shows the incident page saying
    # who got there first.
    return await attempt(
        request,
        session,
        signed_in,
        incident_id,
        lambda: change_of(
            session, incident_id=incident_id, actor=signed_in.actor, via=VIA, now=now
        ),
        done="Acknowledged: escalation stopped." if change == "acknowledge" else "Resolved.",
    )
