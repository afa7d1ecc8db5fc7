"""Services: the list, one service (settings, integrations, maintenance, recent incidents
and change events), and creating, changing and deleting one.

Anyone signed in reads; a team's admins manage its services (``services.*`` authorizes,
and the forms are shown only to those it would allow). Maintenance windows are in
``maintenance``; integrations, with their one-time keys, in ``integrations``.
"""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from tocsin.actions.identity import directory
from tocsin.actions.incidents import queries
from tocsin.actions.services import (
    integrations,
    maintenance,
    post_targets,
    service_activity,
    services,
)
from tocsin.db.models.services import Service
from tocsin.domain.access import Action
from tocsin.domain.incidents import UrgencyRule
from tocsin.errors import InvalidInput
from tocsin.http.context import context_of
from tocsin.http.deps import DbSession, Now
from tocsin.web import forms, post_places
from tocsin.web.confirmation import ask_first
from tocsin.web.pages import PageActor, SignedIn, redirect, render, require_csrf

router = APIRouter(prefix="/services", include_in_schema=False)


@router.get("")
async def list_services(request: Request, session: DbSession, signed_in: PageActor) -> Response:
    return await services_page(request, session, signed_in)


async def services_page(
    request: Request,
    session: DbSession,
    signed_in: SignedIn,
    *,
    error: str | None = None,
    status_code: int = 200,
    typed: dict[str, str] | None = None,
) -> Response:
    actor = signed_in.actor
    found = await directory.all_services(session, actor=actor)
    teams = await directory.all_teams(session, actor=actor)
    policies = await directory.all_policies(session, actor=actor)
    return render(
        request,
        "services/list.html",
        signed_in=signed_in,
        services=found,
        team_names={team.id: team.name for team in teams},
        policy_names={policy.id: policy.name for policy in policies},
        manageable=[t for t in teams if signed_in.can(Action.MANAGE_SERVICES, team_id=t.id)],
        policies=policies,
        urgency_rules=list(UrgencyRule),
        error=error,
        status_code=status_code,
        typed=typed or {},
    )


@router.post("")
async def create_service(
    request: Request, session: DbSession, now: Now, signed_in: PageActor
) -> Response:
    form = await require_csrf(request, signed_in)

    # "team" (the form's default): the team's policy if it has exactly one.
    team_policy = forms.text(form, "escalation_policy_id") == TEAM_POLICY

    async def act() -> Service:
        return await services.create_service(
            session,
            actor=signed_in.actor,
            team_id=forms.required_uuid(form, "team_id"),
            name=forms.text(form, "name"),
            description=forms.text(form, "description"),
            escalation_policy_id=(
                None if team_policy else forms.optional_uuid(form, "escalation_policy_id")
            ),
            urgency_rule=_urgency_rule(form),
            ack_timeout_minutes=forms.optional_int(form, "ack_timeout_minutes"),
            auto_resolve_hours=forms.optional_int(form, "auto_resolve_hours"),
            team_policy_if_one=team_policy,
            now=now,
        )

    return await forms.submit(
        session,
        act,
        done=lambda created: redirect(f"/services/{created.id}", notice=_created(created)),
        refused=lambda why: services_page(
            request, session, signed_in, error=why.message, status_code=422, typed=form
        ),
    )


TEAM_POLICY = "team"


def _created(service: Service) -> str:
    if service.escalation_policy_id is None:
        return (
            f"Created service {service.name}. It pages nobody until you choose an escalation"
            " policy below."
        )
    return f"Created service {service.name}. Its incidents page through its escalation policy."


@router.get("/new")
async def new_form() -> RedirectResponse:
    """The form to create one is on the list page (a ``/new`` link from a bookmark or
    another product's habits lands there, not on a 422)."""
    return RedirectResponse("/services#new", status_code=303)


@router.get("/{service_id}")
async def show_service(
    service_id: uuid.UUID, request: Request, session: DbSession, signed_in: PageActor
) -> Response:
    return await service_page(request, session, signed_in, service_id)


async def service_page(
    request: Request,
    session: DbSession,
    signed_in: SignedIn,
    service_id: uuid.UUID,
    *,
    error: str | None = None,
    status_code: int = 200,
) -> Response:
    actor = signed_in.actor
    service = await services.get_service(session, actor=actor, service_id=service_id)
    recent = await queries.list_incidents(
        session,
        actor=actor,
        filters=queries.IncidentFilter(service_id=service.id),
        cursor=None,
        limit=10,
    )
    sending = await integrations.list_integrations(
        session, actor=actor, service_id=service.id, cursor=None, limit=100
    )
    team = (await directory.teams(session, actor=actor, ids=[service.team_id])).get(service.team_id)
    policies = await directory.all_policies(session, actor=actor)
    can_manage = signed_in.can(Action.MANAGE_SERVICES, team_id=service.team_id)
    cipher = context_of(request).cipher
    return render(
        request,
        "services/detail.html",
        signed_in=signed_in,
        service=service,
        team=team,
        policies=policies,
        policy_names={policy.id: policy.name for policy in policies},
        incidents=recent.items,
        integrations=[loaded.integration for loaded in sending.items],
        base_url=context_of(request).settings.base_url,
        windows=await maintenance.list_windows(session, actor=actor, service_id=service.id),
        changes=await service_activity.recent_change_events(
            session, actor=actor, service_id=service.id
        ),
        can_manage=can_manage,
        places=await post_places.places(
            session, actor=actor, cipher=cipher, owner=post_targets.Owner(service_id=service.id)
        ),
        team_places=await post_places.places(
            session, actor=actor, cipher=cipher, owner=post_targets.Owner(team_id=service.team_id)
        ),
        post_kinds=post_places.kinds(context_of(request).settings),
        can_add_integration=signed_in.can(Action.MANAGE_INTEGRATIONS, team_id=service.team_id),
        urgency_rules=list(UrgencyRule),
        error=error,
        status_code=status_code,
    )


@router.post("/{service_id}")
async def update_service(
    service_id: uuid.UUID, request: Request, session: DbSession, now: Now, signed_in: PageActor
) -> Response:
    form = await require_csrf(request, signed_in)

    async def act() -> Service:
        policy_id = forms.optional_uuid(form, "escalation_policy_id")
        ack_timeout = forms.optional_int(form, "ack_timeout_minutes")
        auto_resolve = forms.optional_int(form, "auto_resolve_hours")
        changes = services.ServiceChanges(
            name=forms.text(form, "name"),
            description=forms.text(form, "description"),
            escalation_policy_id=policy_id,
            clear_escalation_policy=policy_id is None,
            urgency_rule=_urgency_rule(form),
            ack_timeout_minutes=ack_timeout,
            clear_ack_timeout=ack_timeout is None,
            auto_resolve_hours=auto_resolve,
            clear_auto_resolve=auto_resolve is None,
        )
        return await services.update_service(
            session, actor=signed_in.actor, service_id=service_id, changes=changes, now=now
        )

    return await forms.submit(
        session,
        act,
        done=lambda _: redirect(f"/services/{service_id}", notice="Saved."),
        refused=lambda why: service_page(
            request, session, signed_in, service_id, error=why.message, status_code=422
        ),
    )


@router.post("/{service_id}/delete")
async def delete_service(
    service_id: uuid.UUID, request: Request, session: DbSession, now: Now, signed_in: PageActor
) -> Response:
    fields = await require_csrf(request, signed_in)
    if (
        question := ask_first(request, signed_in, fields, back=f"/services/{service_id}")
    ) is not None:
        return question
    service = await services.get_service(session, actor=signed_in.actor, service_id=service_id)

    async def act() -> None:
        await services.delete_service(
            session, actor=signed_in.actor, service_id=service_id, now=now
        )

    return await forms.submit(
        session,
        act,
        done=lambda _: redirect("/services", notice=f"Deleted service {service.name}."),
        refused=lambda why: service_page(
            request,
            session,
            signed_in,
            service_id,
            error=f"Not deleted: {why.detail}.",
            status_code=409,
        ),
    )


def _urgency_rule(form: dict[str, str]) -> UrgencyRule:
    value = forms.text(form, "urgency_rule") or UrgencyRule.SEVERITY.value
    if value not in set(UrgencyRule):
        raise InvalidInput("urgency_rule", "choose an urgency rule")
    return UrgencyRule(value)
