"""The forms of the notification settings page that change things: a person's rules per
urgency, and their contact methods (remove, send the verification again, enter a code).

Each calls the action the API calls and returns to the page; a refusal is shown on the
page with the reason, and the "you cannot be reached" warning there reflects the change
at once, since it is computed from the rules and methods on every view.
"""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Request
from fastapi.responses import Response

from tocsin.actions.identity import contact_methods, notification_rules
from tocsin.db.models.contact_methods import ContactMethod
from tocsin.domain import notification_rules as rule_domain
from tocsin.domain.channels import ChannelKind
from tocsin.domain.incidents import Urgency
from tocsin.errors import RateLimited
from tocsin.http.context import context_of
from tocsin.http.deps import DbSession, Now
from tocsin.web import forms
from tocsin.web.confirmation import ask_first
from tocsin.web.pages import PageActor, redirect, require_csrf
from tocsin.web.routes.identity.notification_settings import page as settings_page

router = APIRouter(prefix="/profile", include_in_schema=False)
SETTINGS = "/profile/notifications"


@router.post("/notification-rules/{urgency}")
async def set_rules(
    urgency: Urgency, request: Request, session: DbSession, now: Now, signed_in: PageActor
) -> Response:
    """One row per channel: used or not, and after how many minutes."""
    form = await require_csrf(request, signed_in)

    async def act() -> list[rule_domain.Rule]:
        rules = [
            rule_domain.Rule(urgency, kind, _delay(form, kind))
            for kind in ChannelKind
            if form.get(f"use-{kind.value}") == "on"
        ]
        return await notification_rules.set_rules(
            session,
            actor=signed_in.actor,
            user_id=signed_in.user.id,
            urgency=urgency,
            rules=rules,
            now=now,
        )

    return await forms.submit(
        session,
        act,
        done=lambda _: redirect(SETTINGS, notice=f"Saved the {urgency.value} urgency rules."),
        refused=lambda why: settings_page(request, session, signed_in, error=why.message),
    )


@router.post("/contact-methods/{method_id}/remove")
async def remove_method(
    method_id: uuid.UUID, request: Request, session: DbSession, now: Now, signed_in: PageActor
) -> Response:
    fields = await require_csrf(request, signed_in)
    back = SETTINGS
    if question := ask_first(request, signed_in, fields, back=back):
        return question
    await contact_methods.remove_method(
        session, actor=signed_in.actor, method_id=method_id, now=now
    )
    return redirect(SETTINGS, notice="Contact method removed.")


@router.post("/contact-methods/{method_id}/resend")
async def resend(
    method_id: uuid.UUID, request: Request, session: DbSession, now: Now, signed_in: PageActor
) -> Response:
    await require_csrf(request, signed_in)
    base_url = context_of(request).settings.base_url

    async def act() -> ContactMethod:
        return await contact_methods.resend_verification(
            session, actor=signed_in.actor, method_id=method_id, base_url=base_url, now=now
        )

    try:
        return await forms.submit(
            session,
            act,
            done=lambda _: redirect(SETTINGS, notice="Sent again: check it for the verification."),
            refused=lambda why: settings_page(
                request, session, signed_in, error=f"Not sent: {why.detail}."
            ),
        )
    except RateLimited as early:
        return await settings_page(request, session, signed_in, error=f"Not sent: {early.detail}.")


@router.post("/contact-methods/{method_id}/verify")
async def verify(
    method_id: uuid.UUID, request: Request, session: DbSession, now: Now, signed_in: PageActor
) -> Response:
    form = await require_csrf(request, signed_in)
    # A wrong code is returned, not raised, so the counted try commits with the request.
    outcome = await contact_methods.verify_code(
        session, actor=signed_in.actor, method_id=method_id, code=form.get("code", ""), now=now
    )
    if isinstance(outcome, str):
        return await settings_page(request, session, signed_in, error=f"Not verified: {outcome}.")
    return redirect(SETTINGS, notice="Verified.")


def _delay(form: dict[str, str], kind: ChannelKind) -> int:
    delay = forms.optional_int(form, f"delay-{kind.value}")
    return 0 if delay is None else delay
