"""Schedules: the list (with who is on call now) and one schedule: who is on call now, the
next 14 days as a bar and a table, its layers and its overrides.

Anyone signed in reads; team admins add schedules and layers, responders add overrides
(``schedule_changes`` has those forms' handlers). Shifts are computed on demand from the
rules, so what the page shows is what the engine would page, to the second.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from tocsin.actions.identity import directory, teams
from tocsin.actions.oncall import on_call as oncall
from tocsin.actions.oncall import overrides, schedules
from tocsin.db.models.schedules import Schedule
from tocsin.domain.access import Action, TeamRole
from tocsin.domain.schedules.rotations import LengthUnit
from tocsin.domain.schedules.timeline import Segment
from tocsin.http.deps import DbSession, Now
from tocsin.web import forms
from tocsin.web.pages import PageActor, SignedIn, redirect, render, require_csrf
from tocsin.web.routes.oncall import shift_choices

router = APIRouter(prefix="/schedules", include_in_schema=False)
TIMELINE = timedelta(days=14)
WEEKDAYS = ("", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


@dataclass(frozen=True)
class Bar:
    """One segment of the 14-day bar: its share of the width and what it shows."""

    segment: Segment
    percent: float
    label: str


@router.get("")
async def list_schedules(
    request: Request, session: DbSession, now: Now, signed_in: PageActor
) -> Response:
    return await schedules_page(request, session, now, signed_in)


async def schedules_page(
    request: Request,
    session: DbSession,
    now: datetime,
    signed_in: SignedIn,
    *,
    error: str | None = None,
    typed: Mapping[str, str] | None = None,
) -> Response:
    actor = signed_in.actor
    found = await directory.all_schedules(session, actor=actor)
    all_teams = await directory.all_teams(session, actor=actor)
    on_call = {}
    for schedule in found:
        answer = await oncall.schedule_on_call(
            session, actor=actor, schedule_id=schedule.id, at=now
        )
        on_call[schedule.id] = answer.answer.user_id
    people = await directory.users(session, actor=actor, ids=list(on_call.values()))
    return render(
        request,
        "schedules/list.html",
        signed_in=signed_in,
        schedules=found,
        on_call=on_call,
        names={user_id: user.name for user_id, user in people.items()},
        team_names={team.id: team.name for team in all_teams},
        manageable=[t for t in all_teams if signed_in.can(Action.MANAGE_SCHEDULES, team_id=t.id)],
        error=error,
        status_code=422 if error else 200,
        typed=typed or {},
    )


@router.post("")
async def create_schedule(
    request: Request, session: DbSession, now: Now, signed_in: PageActor
) -> Response:
    form = await require_csrf(request, signed_in)

    async def act() -> Schedule:
        return await schedules.create_schedule(
            session,
            actor=signed_in.actor,
            team_id=forms.required_uuid(form, "team_id"),
            name=forms.text(form, "name"),
            description=forms.text(form, "description"),
            time_zone=forms.text(form, "time_zone") or signed_in.user.time_zone,
            now=now,
        )

    return await forms.submit(
        session,
        act,
        done=lambda created: redirect(
            f"/schedules/{created.id}", notice=f"Created schedule {created.name}."
        ),
        refused=lambda why: schedules_page(
            request, session, now, signed_in, error=why.message, typed=form
        ),
    )


@router.get("/new")
async def new_form() -> RedirectResponse:
    """The form to create one is on the list page (a ``/new`` link from a bookmark or
    another product's habits lands there, not on a 422)."""
    return RedirectResponse("/schedules#new", status_code=303)


@router.get("/{schedule_id}")
async def show_schedule(
    schedule_id: uuid.UUID, request: Request, session: DbSession, now: Now, signed_in: PageActor
) -> Response:
    return await schedule_page(request, session, now, signed_in, schedule_id)


async def schedule_page(
    request: Request,
    session: DbSession,
    now: datetime,
    signed_in: SignedIn,
    schedule_id: uuid.UUID,
    *,
    error: str | None = None,
    status_code: int = 422,
    typed: Mapping[str, str] | None = None,
) -> Response:
    actor = signed_in.actor
    loaded = await schedules.get_schedule(session, actor=actor, schedule_id=schedule_id)
    schedule = loaded.schedule
    current = await oncall.schedule_on_call(session, actor=actor, schedule_id=schedule.id, at=now)
    _, segments = await oncall.render_timeline(
        session, actor=actor, schedule_id=schedule.id, since=now, until=now + TIMELINE
    )
    upcoming = await overrides.list_overrides(
        session, actor=actor, schedule_id=schedule.id, since=now, until=now + timedelta(days=366)
    )
    members = await teams.list_members(session, actor=actor, team_id=schedule.team_id)
    mentioned = {segment.user_id for segment in segments} | {current.answer.user_id}
    mentioned |= {row.user_id for row in upcoming} | {row.replaces_user_id for row in upcoming}
    mentioned |= {user_id for view in loaded.layers for user_id in view.participants}
    people = await directory.users(session, actor=actor, ids=mentioned)
    names = {user_id: user.name for user_id, user in people.items()}
    layer_names = {view.layer.id: view.layer.name for view in loaded.layers}
    team = (await directory.teams(session, actor=actor, ids=[schedule.team_id])).get(
        schedule.team_id
    )
    my_shifts, their_shifts = shift_choices.offered(segments, mine=signed_in.user.id)
    return render(
        request,
        "schedules/detail.html",
        signed_in=signed_in,
        schedule=schedule,
        team=team,
        current=current.answer,
        segments=segments,
        bars=_bars(segments, names),
        layers=loaded.layers,
        layer_names=layer_names,
        overrides=upcoming,
        names=names,
        responders=[
            user for membership, user in members if membership.role.at_least(TeamRole.RESPONDER)
        ],
        participants=sorted({user_id for view in loaded.layers for user_id in view.participants}),
        weekdays=WEEKDAYS,
        units=[*(unit.value for unit in LengthUnit), "weeks"],
        shift_length=shift_length,
        typed=typed or {},
        can_manage=signed_in.can(Action.MANAGE_SCHEDULES, team_id=schedule.team_id),
        can_override=signed_in.can(Action.CREATE_OVERRIDE, team_id=schedule.team_id),
        can_remove_any=signed_in.can(Action.MANAGE_OVERRIDES, team_id=schedule.team_id),
        my_shifts=my_shifts,
        their_shifts=their_shifts,
        error=error,
        status_code=status_code if error else 200,
    )


def shift_length(count: int, unit: LengthUnit) -> tuple[int, str]:
    """A layer's shift as people say it: ``(1, "weeks")`` for seven days, ``(3, "days")``."""
    if unit is LengthUnit.DAYS and count % 7 == 0:
        return count // 7, "weeks"
    return count, unit.value


def _bars(segments: list[Segment], names: dict[uuid.UUID, str]) -> list[Bar]:
    total = TIMELINE.total_seconds()
    return [
        Bar(
            segment,
            round(100 * (segment.end - segment.start).total_seconds() / total, 3),
            names.get(segment.user_id, "nobody") if segment.user_id else "nobody on call",
        )
        for segment in segments
    ]
