"""The person's own notification settings page: contact methods, rules, opt-ins, and a
warning when the rules can reach them by no channel."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from tocsin.actions.identity import contact_methods, notification_rules
from tocsin.domain.access import TeamRole
from tocsin.domain.channels import ChannelKind
from tocsin.domain.incidents import Urgency
from tocsin.errors import InvalidInput, TocsinError
from tocsin.http.context import context_of
from tocsin.http.deps import DbSession, Now
from tocsin.notify.channels.ntfy import access
from tocsin.notify.channels.slack import workspaces as slack_workspaces
from tocsin.notify.notifier import configured_kinds
from tocsin.web.pages import PageActor, redirect, render, require_csrf

router = APIRouter(include_in_schema=False)


@router.get("/profile/notifications")
async def page(
    request: Request, session: DbSession, signed_in: PageActor, error: str | None = None
) -> Response:
    user_id = signed_in.user.id
    actor = signed_in.actor
    deliverable = configured_kinds(context_of(request).settings)
    reach = await notification_rules.my_reach(
        session, actor=actor, user_id=user_id, deliverable=deliverable
    )
    return render(
        request,
        "notification_settings.html",
        signed_in=signed_in,
        reach=reach,
        methods=await contact_methods.list_methods(session, actor=actor, user_id=user_id),
        rules=await notification_rules.get_rules(session, actor=actor, user_id=user_id),
        settings=await notification_rules.get_settings(session, actor=actor, user_id=user_id),
        urgencies=list(Urgency),
        kinds=contact_methods.ADDRESSED,
        channel_kinds=list(ChannelKind),
        deliverable=deliverable,
        slack_configured=ChannelKind.SLACK in deliverable,
        slack_disabled=(
            await slack_workspaces.disabled(session) if ChannelKind.SLACK in deliverable else []
        ),
        teams_configured=ChannelKind.TEAMS in deliverable,
        can_install_slack=actor.principal.is_platform_admin
        or TeamRole.ADMIN in actor.principal.team_roles.values(),
        error=error,
        status_code=422 if error else 200,
    )


@router.post("/profile/notifications")
async def save_opt_ins(
    request: Request, session: DbSession, now: Now, signed_in: PageActor
) -> Response:
    form = await require_csrf(request, signed_in)
    await notification_rules.set_settings(
        session,
        actor=signed_in.actor,
        user_id=signed_in.user.id,
        on_status_change=form.get("on_status_change") == "on",
        on_shift_start=form.get("on_shift_start") == "on",
        now=now,
    )
    return redirect("/profile/notifications", notice="Saved.")


@router.post("/profile/contact-methods")
async def add_method(
    request: Request, session: DbSession, now: Now, signed_in: PageActor
) -> Response:
    form = await require_csrf(request, signed_in)
    settings = context_of(request).settings
    try:
        # A savepoint: a refusal leaves the session usable (see web/forms.py).
        async with session.begin_nested():
            await contact_methods.add_method(
                session,
                actor=signed_in.actor,
                user_id=signed_in.user.id,
                kind=ChannelKind(form.get("kind", "email")),
                address=form.get("address", ""),
                label=form.get("label", ""),
                base_url=settings.base_url,
                now=now,
                details=access.details(settings, form.get("access_token")),
                allow_private=settings.allow_private_destinations,
            )
    except (InvalidInput, TocsinError, ValueError) as problem:
        detail = problem.detail if isinstance(problem, TocsinError) else str(problem)
        return await page(request, session, signed_in, error=detail)
    return redirect("/profile/notifications", notice="Added: check it for the verification.")
