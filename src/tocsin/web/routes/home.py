"""The home page: what needs you now (open incidents that paged you, whether you are on
call), then who you are, your teams and your role in each."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from tocsin.actions.identity import directory, teams
from tocsin.actions.incidents import queries
from tocsin.actions.oncall import on_call as oncall
from tocsin.http.deps import DbSession, Now
from tocsin.web.pages import PageActor, render

router = APIRouter(include_in_schema=False)


@router.get("/")
async def home(
    request: Request, session: DbSession, now: Now, signed_in: PageActor
) -> HTMLResponse:
    actor = signed_in.actor
    user_id = signed_in.user.id
    memberships = await teams.teams_of_user(session, actor=actor, user_id=user_id)
    mine = await queries.open_paged_to(session, actor=actor, user_id=user_id)
    services = await directory.services(
        session, actor=actor, ids={incident.service_id for incident in mine}
    )
    on_call = await oncall.user_on_call(session, actor=actor, user_id=user_id, at=now)
    return render(
        request,
        "home.html",
        signed_in=signed_in,
        memberships=memberships,
        my_incidents=mine,
        service_names={service_id: service.name for service_id, service in services.items()},
        on_call=on_call,
    )
