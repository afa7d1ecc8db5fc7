"""The signed-in person's own profile: name, time zone, phone, password."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from tocsin.actions.identity import users
from tocsin.errors import InvalidInput
from tocsin.http.deps import DbSession, Now
from tocsin.web import formatting
from tocsin.web.pages import PageActor, redirect, render, require_csrf

router = APIRouter(include_in_schema=False)


def time_zone_choices() -> list[str]:
    return list(formatting.time_zones())


@router.get("/profile")
async def profile(request: Request, signed_in: PageActor) -> Response:
    return render(request, "profile.html", signed_in=signed_in, zones=time_zone_choices())


@router.post("/profile")
async def update_profile(
    request: Request, session: DbSession, now: Now, signed_in: PageActor
) -> Response:
    form = await require_csrf(request, signed_in)
    phone = form.get("phone", "").strip()
    try:
        # A savepoint: a refusal leaves the session usable (see web/forms.py).
        async with session.begin_nested():
            await users.update_user(
                session,
                actor=signed_in.actor,
                user_id=signed_in.user.id,
                changes=users.UserChanges(
                    name=form.get("name"),
                    time_zone=form.get("time_zone"),
                    phone=phone or None,
                    clear_phone=not phone,
                ),
                now=now,
            )
    except InvalidInput as error:
        return render(
            request,
            "profile.html",
            signed_in=signed_in,
            zones=time_zone_choices(),
            error=f"{error.field}: {error.detail}",
            status_code=422,
        )
    return redirect("/profile", notice="Profile saved.")


@router.post("/profile/password")
async def change_password(
    request: Request, session: DbSession, now: Now, signed_in: PageActor
) -> Response:
    form = await require_csrf(request, signed_in)
    if form.get("new_password") != form.get("confirm_password"):
        return render(
            request,
            "profile.html",
            signed_in=signed_in,
            zones=time_zone_choices(),
            error="The two new passwords differ.",
            status_code=422,
        )
    try:
        # A savepoint: a refusal leaves the session usable (see web/forms.py).
        async with session.begin_nested():
            await users.change_password(
                session,
                actor=signed_in.actor,
                user_id=signed_in.user.id,
                new_password=form.get("new_password", ""),
                current_password=form.get("current_password"),
                now=now,
            )
    except InvalidInput as error:
        return render(
            request,
            "profile.html",
            signed_in=signed_in,
            zones=time_zone_choices(),
            error=error.detail,
            status_code=422,
        )
    return redirect("/profile", notice="Password changed.")
