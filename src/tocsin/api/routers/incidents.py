"""Incidents: list, show, create by hand, and every action a responder takes."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Query, Response

from tocsin.actions.actors import Actor
from tocsin.actions.incidents import bulk, incidents, queries
from tocsin.actions.intake import alerts
from tocsin.api.schemas import problems
from tocsin.api.schemas.common import Instant, Page
from tocsin.api.schemas.identity.audit import AuditEventRead
from tocsin.api.schemas.incidents import (
    AlertRead,
    BulkFailure,
    BulkRequest,
    BulkResult,
    EscalateRequest,
    IncidentCreate,
    IncidentDetail,
    IncidentRead,
    NoteCreate,
    PageRead,
    ReassignRequest,
    ResolveRequest,
    SnoozeRequest,
)
from tocsin.api.schemas.problems import Problem
from tocsin.db.models.incidents import Incident
from tocsin.db.models.services import Service
from tocsin.domain.access import Action, authorize
from tocsin.domain.incidents import IncidentStatus, Urgency
from tocsin.errors import InvalidInput
from tocsin.http import problems as http_problems
from tocsin.http.deps import CurrentActor, DbSession, Now

router = APIRouter(prefix="/api/v1/incidents", tags=["incidents"], responses=problems.COMMON)
ONE = {**problems.NOT_FOUND, **problems.CONFLICT}
VIA = "api"


@router.get("", response_model=Page[IncidentRead])
async def list_incidents(
    session: DbSession,
    actor: CurrentActor,
    status: Annotated[list[IncidentStatus] | None, Query()] = None,
    service_id: uuid.UUID | None = None,
    team_id: uuid.UUID | None = None,
    urgency: Urgency | None = None,
    since: Instant | None = None,
    until: Instant | None = None,
    text: Annotated[str | None, Query(max_length=200)] = None,
    cursor: Annotated[str | None, Query(max_length=512)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> Page[IncidentRead]:
    """Newest first. ``status`` may be repeated (``?status=triggered&status=acknowledged``)."""
    page = await queries.list_incidents(
        session,
        actor=actor,
        filters=queries.IncidentFilter(
            statuses=status or (),
            service_id=service_id,
            team_id=team_id,
            urgency=urgency,
            since=since,
            until=until,
            text=text,
        ),
        cursor=cursor,
        limit=limit,
    )
    return Page[IncidentRead](
        items=[IncidentRead.model_validate(item) for item in page.items],
        next_cursor=page.next_cursor,
    )


@router.post("", status_code=201, response_model=IncidentDetail, responses=problems.NOT_FOUND)
async def create_incident(
    body: IncidentCreate, session: DbSession, actor: CurrentActor, now: Now
) -> IncidentDetail:
    """Open an incident by hand; it escalates like any other."""
    service = await session.get(Service, body.service_id)
    if service is None:
        raise InvalidInput("service_id", f"service {body.service_id} does not exist")
    authorize(actor.principal, Action.RESPOND_TO_INCIDENT, team_id=service.team_id)
    incident = await alerts.open_incident(
        session,
        service=service,
        title=body.title,
        description=body.description,
        severity=body.severity,
        actor=actor,
        now=now,
    )
    return await _detail(session, incident)


@router.post("/acknowledge", response_model=BulkResult)
async def acknowledge_many(
    body: BulkRequest, session: DbSession, actor: CurrentActor, now: Now
) -> BulkResult:
    """Acknowledge several incidents, each as ``POST /incidents/{id}/acknowledge`` would:
    those that could not be (already acknowledged or resolved, another team's, gone) are
    in ``failed`` with the problem that request would have got; the rest are done."""
    return await _many(session, bulk.BulkAction.ACKNOWLEDGE, body, actor, now)


@router.post("/resolve", response_model=BulkResult)
async def resolve_many(
    body: BulkRequest, session: DbSession, actor: CurrentActor, now: Now
) -> BulkResult:
    """Resolve several incidents, each as ``POST /incidents/{id}/resolve`` would."""
    return await _many(session, bulk.BulkAction.RESOLVE, body, actor, now)


# ``:uuid``: without it ``GET /incidents/acknowledge`` would be taken as an incident id and
# refused 422, instead of 405 naming the method that path takes.
@router.get("/{incident_id:uuid}", response_model=IncidentDetail, responses=problems.NOT_FOUND)
async def get_incident(
    incident_id: uuid.UUID, session: DbSession, actor: CurrentActor
) -> IncidentDetail:
    """One incident with its alerts, the pages it caused and its timeline."""
    incident = await queries.get_incident(session, actor=actor, incident_id=incident_id)
    return await _detail(session, incident)


@router.get("/{incident_id}/alerts", response_model=list[AlertRead], responses=problems.NOT_FOUND)
async def incident_alerts(
    incident_id: uuid.UUID, session: DbSession, actor: CurrentActor
) -> list[AlertRead]:
    await queries.get_incident(session, actor=actor, incident_id=incident_id)
    return [AlertRead.model_validate(a) for a in await queries.alerts_of(session, incident_id)]


@router.get("/{incident_id}/pages", response_model=list[PageRead], responses=problems.NOT_FOUND)
async def incident_pages(
    incident_id: uuid.UUID, session: DbSession, actor: CurrentActor
) -> list[PageRead]:
    await queries.get_incident(session, actor=actor, incident_id=incident_id)
    return [PageRead.model_validate(p) for p in await queries.pages_of(session, incident_id)]


@router.get(
    "/{incident_id}/timeline", response_model=list[AuditEventRead], responses=problems.NOT_FOUND
)
async def incident_timeline(
    incident_id: uuid.UUID, session: DbSession, actor: CurrentActor
) -> list[AuditEventRead]:
    """Every event on the incident, oldest first."""
    await queries.get_incident(session, actor=actor, incident_id=incident_id)
    events = await queries.timeline_of(session, incident_id)
    return [AuditEventRead.model_validate(event) for event in events]


@router.post("/{incident_id}/acknowledge", response_model=IncidentRead, responses=ONE)
async def acknowledge(
    incident_id: uuid.UUID, session: DbSession, actor: CurrentActor, now: Now
) -> IncidentRead:
    """Stop the escalation. Of two at once, one wins; the other gets 409 naming the winner."""
    incident = await incidents.acknowledge(
        session, incident_id=incident_id, actor=actor, via=VIA, now=now
    )
    return IncidentRead.model_validate(incident)


@router.post("/{incident_id}/resolve", response_model=IncidentRead, responses=ONE)
async def resolve(
    incident_id: uuid.UUID,
    session: DbSession,
    actor: CurrentActor,
    now: Now,
    body: ResolveRequest | None = None,
) -> IncidentRead:
    incident = await incidents.resolve(
        session,
        incident_id=incident_id,
        actor=actor,
        via=VIA,
        now=now,
        note=body.note if body else None,
    )
    return IncidentRead.model_validate(incident)


@router.post("/{incident_id}/snooze", response_model=IncidentRead, responses=ONE)
async def snooze(
    incident_id: uuid.UUID, body: SnoozeRequest, session: DbSession, actor: CurrentActor, now: Now
) -> IncidentRead:
    """Acknowledge for ``minutes``; then it triggers again and escalates from level 1."""
    incident = await incidents.snooze(
        session,
        incident_id=incident_id,
        actor=actor,
        duration=timedelta(minutes=body.minutes),
        via=VIA,
        now=now,
    )
    return IncidentRead.model_validate(incident)


@router.post("/{incident_id}/reassign", response_model=IncidentRead, responses=ONE)
async def reassign(
    incident_id: uuid.UUID, body: ReassignRequest, session: DbSession, actor: CurrentActor, now: Now
) -> IncidentRead:
    """To one person or another escalation policy; escalation restarts for them now."""
    incident = await incidents.reassign(
        session,
        incident_id=incident_id,
        actor=actor,
        now=now,
        user_id=body.user_id,
        policy_id=body.escalation_policy_id,
    )
    return IncidentRead.model_validate(incident)


@router.post("/{incident_id}/escalate", response_model=IncidentRead, responses=ONE)
async def escalate(
    incident_id: uuid.UUID,
    session: DbSession,
    actor: CurrentActor,
    now: Now,
    body: EscalateRequest | None = None,
) -> IncidentRead:
    """Page the next level (or ``level``) now."""
    incident = await incidents.escalate_now(
        session, incident_id=incident_id, actor=actor, now=now, level=body.level if body else None
    )
    return IncidentRead.model_validate(incident)


@router.post("/{incident_id}/notes", status_code=204, responses=ONE)
async def add_note(
    incident_id: uuid.UUID, body: NoteCreate, session: DbSession, actor: CurrentActor, now: Now
) -> Response:
    await incidents.add_note(session, incident_id=incident_id, actor=actor, text=body.text, now=now)
    return Response(status_code=204)


async def _many(
    session: DbSession, action: bulk.BulkAction, body: BulkRequest, actor: Actor, now: datetime
) -> BulkResult:
    outcomes = await bulk.apply(
        session, action=action, incident_ids=body.incident_ids, actor=actor, via=VIA, now=now
    )
    done = [item.incident_id for item in outcomes if item.result is bulk.Result.DONE]
    changed = await queries.by_ids(session, done)
    return BulkResult(
        done=[IncidentRead.model_validate(changed[incident_id]) for incident_id in done],
        failed=[
            BulkFailure(
                incident_id=item.incident_id,
                problem=Problem.model_validate(http_problems.problem_body(item.error)),
            )
            for item in outcomes
            if item.error is not None
        ],
    )


async def _detail(session: DbSession, incident: Incident) -> IncidentDetail:
    base = IncidentRead.model_validate(incident).model_dump()
    return IncidentDetail(
        **base,
        alerts=[AlertRead.model_validate(a) for a in await queries.alerts_of(session, incident.id)],
        pages=[PageRead.model_validate(p) for p in await queries.pages_of(session, incident.id)],
        timeline=[
            AuditEventRead.model_validate(e)
            for e in await queries.timeline_of(session, incident.id)
        ],
    )
