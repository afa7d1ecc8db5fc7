"""Incidents: the list a responder scans and the page of one incident.

Reading is open to everyone signed in (on-call work is shared); the buttons on the page
are shown to those who may respond, and ``incident_actions`` does what they ask. Email
notifications link to ``/incidents/{id}``; ``/incidents/number/{n}`` finds one by the
number people say out loud ("#42").
"""

from __future__ import annotations

import uuid
from collections import Counter
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from tocsin.actions.escalation import policies
from tocsin.actions.identity import directory
from tocsin.actions.incidents import queries
from tocsin.db.models.incidents import Incident
from tocsin.domain.access import Action
from tocsin.domain.deliveries import DeliveryStatus
from tocsin.domain.incidents import OPEN, IncidentStatus, Urgency
from tocsin.http.deps import DbSession
from tocsin.web.formatting import local_time
from tocsin.web.pages import PageActor, SignedIn, redirect, render
from tocsin.web.routes.incidents import timeline

router = APIRouter(prefix="/incidents", include_in_schema=False)

PAGE_SIZE = 50
# The list's status choices: "open" (the default: what still needs someone) and "any".
STATUS_CHOICES = ("open", "triggered", "acknowledged", "resolved", "any")
SNOOZE_CHOICES: tuple[tuple[int, str], ...] = (
    (15, "15 minutes"),
    (30, "30 minutes"),
    (60, "1 hour"),
    (120, "2 hours"),
    (240, "4 hours"),
    (480, "8 hours"),
    (1440, "24 hours"),
)


@router.get("")
async def list_incidents(
    request: Request,
    session: DbSession,
    signed_in: PageActor,
    status: str = "open",
    service: str = "",
    urgency: str = "",
    text: Annotated[str, Query(max_length=200)] = "",
    cursor: Annotated[str | None, Query(max_length=512)] = None,
) -> Response:
    """Newest first; open incidents only unless another status is chosen."""
    status = status if status in STATUS_CHOICES else "open"
    service_id = _uuid_or_none(service)
    chosen_urgency = Urgency(urgency) if urgency in set(Urgency) else None
    statuses: tuple[IncidentStatus, ...] = ()
    if status == "open":
        statuses = tuple(sorted(OPEN))
    elif status != "any":
        statuses = (IncidentStatus(status),)
    page = await queries.list_incidents(
        session,
        actor=signed_in.actor,
        filters=queries.IncidentFilter(
            statuses=statuses,
            service_id=service_id,
            urgency=chosen_urgency,
            text=text.strip() or None,
        ),
        cursor=cursor,
        limit=PAGE_SIZE,
    )
    services = await directory.all_services(session, actor=signed_in.actor)
    filters = {
        "status": status,
        "service": str(service_id) if service_id else "",
        "urgency": chosen_urgency.value if chosen_urgency else "",
        "text": text.strip(),
    }
    return render(
        request,
        "incidents/list.html",
        signed_in=signed_in,
        incidents=page.items,
        next_cursor=page.next_cursor,
        first_page=cursor is not None,
        # Rows of these teams get a checkbox and buttons; the post checks again.
        respond_teams={
            item.team_id
            for item in page.items
            if signed_in.can(Action.RESPOND_TO_INCIDENT, team_id=item.team_id)
        },
        services=services,
        service_names={item.id: item.name for item in services},
        filters=filters,
        status_choices=STATUS_CHOICES,
        urgencies=list(Urgency),
    )


@router.get("/number/{number}")
async def by_number(number: int, session: DbSession, signed_in: PageActor) -> Response:
    incident = await queries.find_by_number(session, actor=signed_in.actor, number=number)
    return redirect(f"/incidents/{incident.id}")


@router.get("/{incident_id}")
async def show_incident(
    incident_id: uuid.UUID, request: Request, session: DbSession, signed_in: PageActor
) -> Response:
    return await incident_page(request, session, signed_in, incident_id)


async def incident_page(
    request: Request,
    session: DbSession,
    signed_in: SignedIn,
    incident_id: uuid.UUID,
    *,
    error: str | None = None,
    status_code: int = 200,
) -> Response:
    """The incident page; ``incident_actions`` shows it again with ``error`` when an
    action was refused or lost a race, so the person sees the state that won."""
    actor = signed_in.actor
    incident = await queries.get_incident(session, actor=actor, incident_id=incident_id)
    alerts = await queries.alerts_of(session, incident.id)
    pages = await queries.pages_of(session, incident.id)
    deliveries = await queries.deliveries_of(session, incident.id)
    events = await queries.timeline_of(session, incident.id)
    mentioned = timeline.people_in(events)
    mentioned |= {page.user_id for page in pages} | {item.user_id for item in deliveries}
    people = await directory.users(
        session,
        actor=actor,
        ids=[*mentioned, incident.acknowledged_by_user_id, incident.resolved_by_user_id],
    )
    names = {user_id: user.name for user_id, user in people.items()}
    service = (await directory.services(session, actor=actor, ids=[incident.service_id])).get(
        incident.service_id
    )
    team = (await directory.teams(session, actor=actor, ids=[incident.team_id])).get(
        incident.team_id
    )
    can_respond = signed_in.can(Action.RESPOND_TO_INCIDENT, team_id=incident.team_id)
    zone = signed_in.user.time_zone
    by_channel: dict[str, Counter[str]] = {}
    for item in deliveries:
        # Mail kept in the local outbox (no mail server set) reached nobody: it is not
        # "delivered" to anyone who reads this page to know who was told.
        shown = (
            "in the local outbox"
            if item.provider == "outbox" and item.status is DeliveryStatus.DELIVERED
            else item.status.value
        )
        by_channel.setdefault(item.kind.value, Counter())[shown] += 1
    return render(
        request,
        "incidents/detail.html",
        signed_in=signed_in,
        incident=incident,
        service=service,
        team=team,
        alerts=alerts,
        pages=pages,
        deliveries=deliveries,
        by_channel=by_channel,
        names=names,
        state=state_sentence(incident, names, zone),
        timeline=timeline.entries(events, names, zone),
        can_respond=can_respond,
        is_open=incident.status in OPEN,
        levels=await _level_count(session, signed_in, incident) if can_respond else 0,
        people=await directory.active_users(session, actor=actor) if can_respond else [],
        policies=await directory.all_policies(session, actor=actor) if can_respond else [],
        snooze_choices=SNOOZE_CHOICES,
        error=error,
        status_code=status_code,
    )


def state_sentence(incident: Incident, names: dict[uuid.UUID, str], zone: str) -> str:
    """ "acknowledged by Ada at …": who moved the incident to its current state, and when."""
    if incident.status is IncidentStatus.RESOLVED:
        who = _who(incident.resolved_by_user_id, incident.resolved_by, names)
        return f"resolved by {who} at {local_time(incident.resolved_at, zone, seconds=True)}"
    if incident.status is IncidentStatus.ACKNOWLEDGED:
        who = _who(incident.acknowledged_by_user_id, incident.acknowledged_by, names)
        when = local_time(incident.acknowledged_at, zone, seconds=True)
        return f"acknowledged by {who} at {when}"
    return f"triggered at {local_time(incident.created_at, zone, seconds=True)}"


def _who(user_id: uuid.UUID | None, label: str | None, names: dict[uuid.UUID, str]) -> str:
    if user_id is not None and user_id in names:
        return names[user_id]
    return label or "someone"


async def _level_count(session: DbSession, signed_in: SignedIn, incident: Incident) -> int:
    """How many levels "escalate to level …" may choose from: the frozen snapshot's once
    the engine has taken it, the service policy's before."""
    if incident.escalation_snapshot is not None:
        return len(incident.escalation_snapshot.get("levels", []))
    if incident.escalation_policy_id is None:
        return 0
    loaded = await policies.get_policy(
        session, actor=signed_in.actor, policy_id=incident.escalation_policy_id
    )
    return len(loaded.levels)


def _uuid_or_none(text: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(text) if text else None
    except ValueError:
        return None
