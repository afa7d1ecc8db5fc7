"""Teams: everyone may look; platform admins create them; team admins manage members."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from tocsin.actions.identity import teams, users
from tocsin.actions.services import post_targets
from tocsin.domain.access import Action, TeamRole
from tocsin.errors import Conflict, InvalidInput, NotFound
from tocsin.http.context import context_of
from tocsin.http.deps import DbSession, Now
from tocsin.web import post_places
from tocsin.web.confirmation import ask_first
from tocsin.web.pages import PageActor, SignedIn, redirect, render, require_csrf

router = APIRouter(prefix="/teams", include_in_schema=False)


@router.get("")
async def list_teams(
    request: Request, session: DbSession, signed_in: PageActor, cursor: str | None = None
) -> Response:
    return await _teams_page(request, session, signed_in, cursor=cursor)


async def _teams_page(
    request: Request,
    session: DbSession,
    signed_in: SignedIn,
    *,
    cursor: str | None = None,
    typed: dict[str, str] | None = None,
    error: str | None = None,
) -> Response:
    page = await teams.list_teams(session, actor=signed_in.actor, cursor=cursor, limit=50)
    return render(
        request,
        "teams.html",
        signed_in=signed_in,
        page=page,
        typed=typed or {},
        error=error,
        status_code=422 if error else 200,
    )


@router.post("")
async def create_team(
    request: Request, session: DbSession, now: Now, signed_in: PageActor
) -> Response:
    form = await require_csrf(request, signed_in)
    try:
        # A savepoint: a refusal leaves the session usable (see web/forms.py).
        async with session.begin_nested():
            team = await teams.create_team(
                session,
                actor=signed_in.actor,
                name=form.get("name", ""),
                description=form.get("description", ""),
                now=now,
            )
    except (InvalidInput, Conflict) as error:
        # The same form again, with what was typed and the reason beside it.
        return await _teams_page(
            request, session, signed_in, typed=form, error=f"Not created: {error.detail}."
        )
    return redirect(
        f"/teams/{team.id}",
        notice=f"Created team {team.name}. You are its admin: add its people below.",
    )


@router.get("/new")
async def new_form() -> RedirectResponse:
    """The form to create one is on the list page (a ``/new`` link from a bookmark or
    another product's habits lands there, not on a 422)."""
    return RedirectResponse("/teams#new", status_code=303)


@router.get("/{team_id}")
async def show_team(
    team_id: uuid.UUID, request: Request, session: DbSession, signed_in: PageActor
) -> Response:
    return await team_page(request, session, signed_in, team_id)


async def team_page(
    request: Request,
    session: DbSession,
    signed_in: SignedIn,
    team_id: uuid.UUID,
    *,
    error: str | None = None,
    status_code: int = 200,
) -> Response:
    team = await teams.get_team(session, actor=signed_in.actor, team_id=team_id)
    members = await teams.list_members(session, actor=signed_in.actor, team_id=team_id)
    can_manage = signed_in.can(Action.MANAGE_TEAM, team_id=team_id)
    candidates = []
    if can_manage:
        page = await users.list_users(
            session, actor=signed_in.actor, cursor=None, limit=200, active=True
        )
        present = {user.id for _, user in members}
        candidates = [user for user in page.items if user.id not in present]
    return render(
        request,
        "team.html",
        signed_in=signed_in,
        team=team,
        members=members,
        can_manage=can_manage,
        candidates=candidates,
        roles=list(TeamRole),
        places=await post_places.places(
            session,
            actor=signed_in.actor,
            cipher=context_of(request).cipher,
            owner=post_targets.Owner(team_id=team_id),
        ),
        post_kinds=post_places.kinds(context_of(request).settings),
        can_manage_places=signed_in.can(Action.MANAGE_SERVICES, team_id=team_id),
        error=error,
        status_code=status_code,
    )


@router.post("/{team_id}")
async def update_team(
    team_id: uuid.UUID, request: Request, session: DbSession, now: Now, signed_in: PageActor
) -> Response:
    form = await require_csrf(request, signed_in)
    try:
        # A savepoint: a refusal leaves the session usable (see web/forms.py).
        async with session.begin_nested():
            await teams.update_team(
                session,
                actor=signed_in.actor,
                team_id=team_id,
                name=form.get("name"),
                description=form.get("description"),
                now=now,
            )
    except (InvalidInput, Conflict) as error:
        return redirect(f"/teams/{team_id}", error=f"Not saved: {error.detail}")
    return redirect(f"/teams/{team_id}", notice="Saved.")


@router.post("/{team_id}/members")
async def add_member(
    team_id: uuid.UUID, request: Request, session: DbSession, now: Now, signed_in: PageActor
) -> Response:
    form = await require_csrf(request, signed_in)
    try:
        # A savepoint: a refusal leaves the session usable (see web/forms.py).
        async with session.begin_nested():
            await teams.add_member(
                session,
                actor=signed_in.actor,
                team_id=team_id,
                user_id=uuid.UUID(form.get("user_id", "")),
                role=TeamRole(form.get("role", TeamRole.RESPONDER.value)),
                now=now,
            )
    except ValueError:
        return redirect(f"/teams/{team_id}", error="Not added: choose a person and a role.")
    except (InvalidInput, Conflict, NotFound) as error:
        return redirect(f"/teams/{team_id}", error=f"Not added: {error.detail}")
    return redirect(f"/teams/{team_id}", notice="Member added.")


@router.post("/{team_id}/members/{user_id}")
async def change_member(
    team_id: uuid.UUID,
    user_id: uuid.UUID,
    request: Request,
    session: DbSession,
    now: Now,
    signed_in: PageActor,
) -> Response:
    form = await require_csrf(request, signed_in)
    removing = form.get("remove") == "yes"
    if removing and (question := ask_first(request, signed_in, form, back=f"/teams/{team_id}")):
        return question
    try:
        # A savepoint: a refusal leaves the session usable (see web/forms.py).
        async with session.begin_nested():
            if removing:
                await teams.remove_member(
                    session, actor=signed_in.actor, team_id=team_id, user_id=user_id, now=now
                )
                return redirect(f"/teams/{team_id}", notice="Member removed.")
            await teams.change_role(
                session,
                actor=signed_in.actor,
                team_id=team_id,
                user_id=user_id,
                role=TeamRole(form.get("role", "")),
                now=now,
            )
    except ValueError:
        return redirect(f"/teams/{team_id}", error="Not changed: unknown role.")
    except (Conflict, NotFound) as error:
        return redirect(f"/teams/{team_id}", error=f"Not changed: {error.detail}")
    return redirect(f"/teams/{team_id}", notice="Role changed.")
