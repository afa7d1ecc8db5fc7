"""Escalation policies: the list, one policy (its levels, targets and the services using
it), and the create and edit form for team admins (``policy_form`` reads its rows).

Editing a policy never changes an escalation in flight: each incident keeps the snapshot
its first page froze, which the incident page shows.
"""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Request
from fastapi.responses import Response

from tocsin.actions.escalation import policies
from tocsin.actions.identity import directory
from tocsin.db.models.escalation_policies import EscalationPolicy
from tocsin.domain.access import Action
from tocsin.domain.escalation import TargetKind
from tocsin.http.deps import DbSession, Now
from tocsin.web import forms
from tocsin.web.confirmation import ask_first
from tocsin.web.pages import PageActor, SignedIn, redirect, render, require_csrf
from tocsin.web.routes.escalation import policy_form
from tocsin.web.routes.escalation.policy_form import DraftLevel

router = APIRouter(prefix="/escalation-policies", include_in_schema=False)


@router.get("")
async def list_policies(request: Request, session: DbSession, signed_in: PageActor) -> Response:
    actor = signed_in.actor
    page = await policies.list_policies(session, actor=actor, cursor=None, limit=200)
    teams = await directory.all_teams(session, actor=actor)
    return render(
        request,
        "escalation_policies/list.html",
        signed_in=signed_in,
        policies=page.items,
        more=page.next_cursor is not None,
        team_names={team.id: team.name for team in teams},
        can_create=any(signed_in.can(Action.MANAGE_POLICIES, team_id=t.id) for t in teams),
    )


@router.get("/new")
async def new_policy(request: Request, session: DbSession, signed_in: PageActor) -> Response:
    return await _form(request, session, signed_in, levels=policy_form.with_room([]))


@router.post("")
async def create_policy(
    request: Request, session: DbSession, now: Now, signed_in: PageActor
) -> Response:
    form = await require_csrf(request, signed_in)
    drafted = policy_form.from_form(form)
    if form.get("op") == "more":
        return await _form(request, session, signed_in, form=form, levels=_more(drafted))

    async def act() -> policies.LoadedPolicy:
        return await policies.create_policy(
            session,
            actor=signed_in.actor,
            team_id=forms.required_uuid(form, "team_id"),
            name=forms.text(form, "name"),
            description=forms.text(form, "description"),
            repeat_count=forms.optional_int(form, "repeat_count") or 0,
            levels=policy_form.to_levels(drafted),
            now=now,
        )

    return await forms.submit(
        session,
        act,
        done=lambda saved: redirect(
            f"/escalation-policies/{saved.policy.id}", notice=f"Created {saved.policy.name}."
        ),
        refused=lambda why: _form(
            request,
            session,
            signed_in,
            form=form,
            levels=policy_form.with_room(drafted),
            error=why.message,
        ),
    )


@router.get("/{policy_id}")
async def show_policy(
    policy_id: uuid.UUID, request: Request, session: DbSession, signed_in: PageActor
) -> Response:
    return await _policy_page(request, session, signed_in, policy_id)


async def _policy_page(
    request: Request,
    session: DbSession,
    signed_in: SignedIn,
    policy_id: uuid.UUID,
    *,
    error: str | None = None,
    status_code: int = 200,
) -> Response:
    actor = signed_in.actor
    loaded = await policies.get_policy(session, actor=actor, policy_id=policy_id)
    services = await directory.all_services(session, actor=actor)
    team = (await directory.teams(session, actor=actor, ids=[loaded.policy.team_id])).get(
        loaded.policy.team_id
    )
    return render(
        request,
        "escalation_policies/detail.html",
        signed_in=signed_in,
        policy=loaded.policy,
        levels=loaded.levels,
        team=team,
        names=await _target_names(session, signed_in, loaded),
        services=[s for s in services if s.escalation_policy_id == loaded.policy.id],
        can_manage=signed_in.can(Action.MANAGE_POLICIES, team_id=loaded.policy.team_id),
        error=error,
        status_code=status_code,
    )


@router.get("/{policy_id}/edit")
async def edit_policy(
    policy_id: uuid.UUID, request: Request, session: DbSession, signed_in: PageActor
) -> Response:
    loaded = await policies.get_policy(session, actor=signed_in.actor, policy_id=policy_id)
    levels = policy_form.with_room(policy_form.from_levels(loaded.levels))
    return await _form(request, session, signed_in, levels=levels, policy=loaded.policy)


@router.post("/{policy_id}")
async def update_policy(
    policy_id: uuid.UUID, request: Request, session: DbSession, now: Now, signed_in: PageActor
) -> Response:
    form = await require_csrf(request, signed_in)
    loaded = await policies.get_policy(session, actor=signed_in.actor, policy_id=policy_id)
    drafted = policy_form.from_form(form)
    if form.get("op") == "more":
        return await _form(
            request, session, signed_in, form=form, levels=_more(drafted), policy=loaded.policy
        )

    async def act() -> policies.LoadedPolicy:
        changes = policies.PolicyChanges(
            name=forms.text(form, "name"),
            description=forms.text(form, "description"),
            repeat_count=forms.optional_int(form, "repeat_count") or 0,
            levels=policy_form.to_levels(drafted),
        )
        return await policies.update_policy(
            session, actor=signed_in.actor, policy_id=policy_id, changes=changes, now=now
        )

    return await forms.submit(
        session,
        act,
        done=lambda _: redirect(f"/escalation-policies/{policy_id}", notice="Saved."),
        refused=lambda why: _form(
            request,
            session,
            signed_in,
            form=form,
            levels=policy_form.with_room(drafted),
            policy=loaded.policy,
            error=why.message,
        ),
    )


@router.post("/{policy_id}/delete")
async def delete_policy(
    policy_id: uuid.UUID, request: Request, session: DbSession, now: Now, signed_in: PageActor
) -> Response:
    fields = await require_csrf(request, signed_in)
    if (
        question := ask_first(request, signed_in, fields, back=f"/escalation-policies/{policy_id}")
    ) is not None:
        return question

    async def act() -> None:
        await policies.delete_policy(session, actor=signed_in.actor, policy_id=policy_id, now=now)

    # A policy still used is refused on its own page, as an error: the reason (what
    # uses it) is something to act on, not a notice that something was done.
    return await forms.submit(
        session,
        act,
        done=lambda _: redirect("/escalation-policies", notice="Escalation policy deleted."),
        refused=lambda why: _policy_page(
            request,
            session,
            signed_in,
            policy_id,
            error=f"Not deleted: {why.detail}.",
            status_code=409,
        ),
    )


def _more(drafted: list[DraftLevel]) -> list[DraftLevel]:
    return policy_form.with_room(drafted, extra=2)


async def _form(
    request: Request,
    session: DbSession,
    signed_in: SignedIn,
    *,
    levels: list[DraftLevel],
    form: dict[str, str] | None = None,
    policy: EscalationPolicy | None = None,
    error: str | None = None,
) -> Response:
    actor = signed_in.actor
    teams = await directory.all_teams(session, actor=actor)
    return render(
        request,
        "escalation_policies/form.html",
        signed_in=signed_in,
        policy=policy,
        values=form or {},
        levels=levels,
        teams=[t for t in teams if signed_in.can(Action.MANAGE_POLICIES, team_id=t.id)],
        people=await directory.active_users(session, actor=actor),
        schedules=await directory.all_schedules(session, actor=actor),
        all_teams=teams,
        error=error,
        status_code=422 if error else 200,
    )


async def _target_names(
    session: DbSession, signed_in: SignedIn, loaded: policies.LoadedPolicy
) -> dict[uuid.UUID, str]:
    targets = [target for level in loaded.levels for target in level.targets]
    by_kind = {kind: [t.id for t in targets if t.kind is kind] for kind in TargetKind}
    actor = signed_in.actor
    people = await directory.users(session, actor=actor, ids=by_kind[TargetKind.USER])
    schedules = await directory.schedules(session, actor=actor, ids=by_kind[TargetKind.SCHEDULE])
    teams = await directory.teams(session, actor=actor, ids=by_kind[TargetKind.TEAM])
    names = {user_id: user.name for user_id, user in people.items()}
    names |= {schedule_id: schedule.name for schedule_id, schedule in schedules.items()}
    names |= {team_id: team.name for team_id, team in teams.items()}
    return names
