"""The home page: who you are, your teams and your role in each."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from tocsin.actions import teams
from tocsin.api.deps import DbSession
from tocsin.web.pages import PageActor, render

router = APIRouter(include_in_schema=False)


@router.get("/")
async def home(request: Request, session: DbSession, signed_in: PageActor) -> HTMLResponse:
    memberships = await teams.teams_of_user(
        session, actor=signed_in.actor, user_id=signed_in.user.id
    )
    return render(request, "home.html", signed_in=signed_in, memberships=memberships)
