"""Shared places on a service's and a team's page: add one, remove one.

The same actions as ``/api/v1/services/{id}/post-targets`` and
``/api/v1/teams/{id}/post-targets``; a refusal (an address the channel does not take, a
kind not set up here, too many places) shows the page again with the reason.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from fastapi import APIRouter, Request
from fastapi.responses import Response

from tocsin.actions.services import post_targets
from tocsin.db.models.follow_ups import PostTarget
from tocsin.domain.channels import ChannelKind
from tocsin.errors import InvalidInput
from tocsin.http.context import context_of
from tocsin.http.deps import DbSession, Now
from tocsin.notify.channels import registry
from tocsin.web import forms
from tocsin.web.confirmation import ask_first
from tocsin.web.pages import PageActor, SignedIn, redirect, require_csrf
from tocsin.web.routes.identity.teams import team_page
from tocsin.web.routes.services.services import service_page

router = APIRouter(include_in_schema=False)


@router.post("/services/{service_id}/post-targets")
async def add_service_place(
    service_id: uuid.UUID, request: Request, session: DbSession, now: Now, signed_in: PageActor
) -> Response:
    form = await require_csrf(request, signed_in)
    return await forms.submit(
        session,
        lambda: _add(
            request, session, signed_in, form, post_targets.Owner(service_id=service_id), now
        ),
        done=lambda target: redirect(
            f"/services/{service_id}",
            notice=f"Incidents will be posted to {target.label or 'the place'}.",
        ),
        refused=lambda why: service_page(
            request, session, signed_in, service_id, error=why.message, status_code=422
        ),
    )


@router.post("/services/{service_id}/post-targets/{target_id}/remove")
async def remove_service_place(
    service_id: uuid.UUID,
    target_id: uuid.UUID,
    request: Request,
    session: DbSession,
    now: Now,
    signed_in: PageActor,
) -> Response:
    owner = post_targets.Owner(service_id=service_id)
    return await _remove(
        request, session, signed_in, owner, target_id, now, f"/services/{service_id}"
    )


@router.post("/teams/{team_id}/post-targets")
async def add_team_place(
    team_id: uuid.UUID, request: Request, session: DbSession, now: Now, signed_in: PageActor
) -> Response:
    form = await require_csrf(request, signed_in)
    return await forms.submit(
        session,
        lambda: _add(request, session, signed_in, form, post_targets.Owner(team_id=team_id), now),
        done=lambda target: redirect(
            f"/teams/{team_id}",
            notice=f"Incidents will be posted to {target.label or 'the place'}.",
        ),
        refused=lambda why: team_page(
            request, session, signed_in, team_id, error=why.message, status_code=422
        ),
    )


@router.post("/teams/{team_id}/post-targets/{target_id}/remove")
async def remove_team_place(
    team_id: uuid.UUID,
    target_id: uuid.UUID,
    request: Request,
    session: DbSession,
    now: Now,
    signed_in: PageActor,
) -> Response:
    owner = post_targets.Owner(team_id=team_id)
    return await _remove(request, session, signed_in, owner, target_id, now, f"/teams/{team_id}")


async def _remove(
    request: Request,
    session: DbSession,
    signed_in: SignedIn,
    owner: post_targets.Owner,
    target_id: uuid.UUID,
    now: datetime,
    back: str,
) -> Response:
    fields = await require_csrf(request, signed_in)
    if question := ask_first(request, signed_in, fields, back=back):
        return question
    await post_targets.remove_target(
        session, actor=signed_in.actor, owner=owner, target_id=target_id, now=now
    )
    return redirect(back, notice="Nothing new is posted there now.")


async def _add(
    request: Request,
    session: DbSession,
    signed_in: SignedIn,
    form: dict[str, str],
    owner: post_targets.Owner,
    now: Now,
) -> PostTarget:
    context = context_of(request)
    kind_text = forms.text(form, "kind")
    if kind_text not in set(ChannelKind):
        raise InvalidInput("kind", "choose where to post: slack or teams")
    kind = ChannelKind(kind_text)
    return await post_targets.add_target(
        session,
        actor=signed_in.actor,
        cipher=context.cipher,
        owner=owner,
        kind=kind,
        address=registry.post_address(context.settings, kind, forms.text(form, "address")),
        label=forms.text(form, "label"),
        now=now,
    )


def _added(target: PostTarget) -> str:
    return f"Incidents from now on will be posted to {target.label or 'the place'}."
