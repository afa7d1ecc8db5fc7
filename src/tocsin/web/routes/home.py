"""The home page: what needs you now (open incidents that paged you, whether you are on
call), then who you are, your teams and your role in each.

Until the installation is set up, those who set it up (platform admins, team admins) see
the first-run checklist at the top: each step links to its form and is ticked from the
data (``actions/first_run.py``), and the list goes away once every step is done."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from tocsin.actions import first_run
from tocsin.actions.identity import directory, teams
from tocsin.actions.incidents import queries
from tocsin.actions.oncall import on_call as oncall
from tocsin.domain.access import Action, TeamRole
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
    sets_up = signed_in.can(Action.CREATE_TEAM) or any(
        role is TeamRole.ADMIN for _, role in memberships
    )
    progress = await first_run.progress(session, actor=actor, user_id=user_id) if sets_up else None
    return render(
        request,
        "home.html",
        signed_in=signed_in,
        memberships=memberships,
        my_incidents=mine,
        service_names={service_id: service.name for service_id, service in services.items()},
        on_call=on_call,
        checklist=checklist(progress) if progress and not progress.complete else [],
    )


@dataclass(frozen=True)
class Step:
    title: str
    why: str
    href: str
    done: bool


def checklist(progress: first_run.Progress) -> list[Step]:
    """The set-up steps in the order they can be done, each with the form that does it."""
    team_page = f"/teams/{progress.first_team_id}" if progress.first_team_id else "/teams"
    integration_page = (
        f"/integrations/{progress.first_integration_id}"
        if progress.first_integration_id
        else "/integrations"
    )
    return [
        Step(
            "Create a team",
            "Teams own services, schedules and policies.",
            "/teams/new",
            progress.team,
        ),
        Step(
            "Add people",
            "Responders and admins of a team can be paged.",
            team_page,
            progress.people,
        ),
        Step(
            "Make a schedule",
            "Who is on call when, in rotations.",
            "/schedules/new",
            progress.schedule,
        ),
        Step(
            "Make an escalation policy",
            "Whom to page first, and next if nobody answers.",
            "/escalation-policies/new",
            progress.policy,
        ),
        Step(
            "Add a service",
            "What breaks; it pages through the policy.",
            "/services/new",
            progress.service,
        ),
        Step(
            "Connect an integration",
            "Where alerts come from: Alertmanager, Grafana, …",
            "/integrations/new",
            progress.integration,
        ),
        Step(
            "Send a test alert",
            "From the integration's page, or from your monitoring.",
            integration_page,
            progress.alert,
        ),
        Step(
            "See it page you, and acknowledge it",
            "Proof that you will be woken up.",
            "/incidents",
            progress.paged_and_acknowledged,
        ),
    ]
