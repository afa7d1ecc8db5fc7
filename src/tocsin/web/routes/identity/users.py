"""User administration, for platform admins."""

from __future__ import annotations

import uuid
from datetime import timedelta

from fastapi import APIRouter, Request
from fastapi.responses import Response

from tocsin.actions.identity import invitations, logins, teams, users
from tocsin.actions.identity.logins import login_link_url
from tocsin.domain.access import Action, authorize
from tocsin.errors import Conflict, InvalidInput
from tocsin.http.context import context_of
from tocsin.http.deps import DbSession, Now
from tocsin.web import formatting, forms
from tocsin.web.pages import PageActor, redirect, render, require_csrf
from tocsin.web.routes.identity.profile import time_zone_choices

router = APIRouter(prefix="/admin/users", include_in_schema=False)


@router.get("")
async def list_users(
    request: Request,
    session: DbSession,
    signed_in: PageActor,
    search: str | None = None,
    cursor: str | None = None,
) -> Response:
    authorize(signed_in.actor.principal, Action.MANAGE_USERS)
    page = await users.list_users(
        session, actor=signed_in.actor, cursor=cursor, limit=50, search=search
    )
    return render(
        request,
        "admin/users.html",
        signed_in=signed_in,
        page=page,
        search=search or "",
        zones=time_zone_choices(),
    )


@router.post("")
async def create_user(
    request: Request, session: DbSession, now: Now, signed_in: PageActor
) -> Response:
    form = await require_csrf(request, signed_in)
    settings = context_of(request).settings
    try:
        # A savepoint: a refusal leaves the session usable (see web/forms.py). The user
        # and their invitation commit together: nobody is created without being told.
        async with session.begin_nested():
            user = await users.create_user(
                session,
                actor=signed_in.actor,
                email=form.get("email", ""),
                name=form.get("name", ""),
                time_zone=form.get("time_zone") or "UTC",
                phone=form.get("phone") or None,
                is_platform_admin=form.get("is_platform_admin") == "on",
                now=now,
            )
            invitation = await invitations.invite(
                session,
                actor=signed_in.actor,
                user_id=user.id,
                base_url=settings.base_url,
                ttl=timedelta(hours=settings.invitation_hours),
                now=now,
            )
    except (InvalidInput, Conflict) as error:
        page = await users.list_users(session, actor=signed_in.actor, cursor=None, limit=50)
        return render(
            request,
            "admin/users.html",
            signed_in=signed_in,
            page=page,
            search="",
            zones=time_zone_choices(),
            error=error.detail,
            form=form,
            status_code=422,
        )
    return redirect(
        f"/admin/users/{user.id}",
        notice=f"Created {user.email}. {_sent(invitation, signed_in.user.time_zone)}",
    )


def _sent(invitation: invitations.Invitation, zone: str) -> str:
    until = formatting.local_time(invitation.expires_at, zone)
    return (
        f"An invitation with a one-time sign-in link was sent to {invitation.address}; "
        f"the link works once, until {until}."
    )


@router.post("/{user_id}/invitation")
async def resend_invitation(
    user_id: uuid.UUID, request: Request, session: DbSession, now: Now, signed_in: PageActor
) -> Response:
    await require_csrf(request, signed_in)
    settings = context_of(request).settings

    async def act() -> invitations.Invitation:
        return await invitations.invite(
            session,
            actor=signed_in.actor,
            user_id=user_id,
            base_url=settings.base_url,
            ttl=timedelta(hours=settings.invitation_hours),
            now=now,
        )

    outcome = await forms.attempt(session, act)
    path = f"/admin/users/{user_id}"
    if isinstance(outcome, forms.Refused):
        return redirect(path, error=f"Not sent: {outcome.detail}.")
    return redirect(path, notice=_sent(outcome, signed_in.user.time_zone))


@router.get("/{user_id}")
async def show_user(
    user_id: uuid.UUID, request: Request, session: DbSession, signed_in: PageActor
) -> Response:
    authorize(signed_in.actor.principal, Action.MANAGE_USERS)
    user = await users.get_user(session, actor=signed_in.actor, user_id=user_id)
    memberships = await teams.teams_of_user(session, actor=signed_in.actor, user_id=user_id)
    return render(
        request,
        "admin/user.html",
        signed_in=signed_in,
        user=user,
        memberships=memberships,
        zones=time_zone_choices(),
        login_link=None,
    )


@router.post("/{user_id}")
async def update_user(
    user_id: uuid.UUID, request: Request, session: DbSession, now: Now, signed_in: PageActor
) -> Response:
    form = await require_csrf(request, signed_in)
    phone = form.get("phone", "").strip()
    try:
        # A savepoint: a refusal leaves the session usable (see web/forms.py).
        async with session.begin_nested():
            await users.update_user(
                session,
                actor=signed_in.actor,
                user_id=user_id,
                changes=users.UserChanges(
                    name=form.get("name"),
                    email=form.get("email"),
                    time_zone=form.get("time_zone"),
                    phone=phone or None,
                    clear_phone=not phone,
                    is_platform_admin=form.get("is_platform_admin") == "on",
                ),
                now=now,
            )
            await users.set_active(
                session,
                actor=signed_in.actor,
                user_id=user_id,
                active=form.get("is_active") == "on",
                now=now,
            )
    except (InvalidInput, Conflict) as error:
        return redirect(f"/admin/users/{user_id}", error=f"Not saved: {error.detail}")
    return redirect(f"/admin/users/{user_id}", notice="Saved.")


@router.post("/{user_id}/login-link")
async def issue_login_link(
    user_id: uuid.UUID, request: Request, session: DbSession, now: Now, signed_in: PageActor
) -> Response:
    await require_csrf(request, signed_in)
    context = context_of(request)
    token = await logins.issue_login_link(
        session,
        actor=signed_in.actor,
        user_id=user_id,
        ttl=timedelta(minutes=context.settings.login_link_minutes),
        now=now,
    )
    user = await users.get_user(session, actor=signed_in.actor, user_id=user_id)
    memberships = await teams.teams_of_user(session, actor=signed_in.actor, user_id=user_id)
    return render(
        request,
        "admin/user.html",
        signed_in=signed_in,
        user=user,
        memberships=memberships,
        zones=time_zone_choices(),
        login_link=login_link_url(context.settings.base_url, token),
    )
