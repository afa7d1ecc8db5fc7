"""Acknowledging or resolving several incidents at once: the list page's ticked rows and
``POST /api/v1/incidents/acknowledge`` (or ``/resolve``).

Each incident goes through the one-incident action (``incidents.acknowledge`` or
``incidents.resolve``) with its own permission check and compare-and-set, inside its own
savepoint: one incident that someone else already resolved, or that belongs to a team the
actor does not respond for, is reported and leaves the others done, never undoing them.

Incidents are taken in id order: two people acknowledging overlapping selections at once
then lock the rows in the same order, so one waits for the other instead of deadlocking.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sqlalchemy.ext.asyncio import AsyncSession

from tocsin.actions.actors import Actor
from tocsin.actions.incidents import incidents
from tocsin.db.models.incidents import Incident
from tocsin.domain.incidents import IncidentStatus
from tocsin.errors import (
    InvalidInput,
    NotFound,
    PermissionDenied,
    StaleTransition,
    TocsinError,
)

# A page of the list holds 50; a selection larger than this is not a person's click.
MAX_INCIDENTS = 100


class BulkAction(StrEnum):
    ACKNOWLEDGE = "acknowledge"
    RESOLVE = "resolve"


class Result(StrEnum):
    DONE = "done"
    # Someone (or something) moved the incident on first: already acknowledged or resolved.
    ALREADY = "already"
    NOT_ALLOWED = "not_allowed"
    NOT_FOUND = "not_found"


@dataclass(frozen=True)
class Outcome:
    incident_id: uuid.UUID
    result: Result
    # The incident's number once known (not for one that does not exist).
    number: int | None = None
    # For ALREADY: the state that won and who got there ("resolved", "bob@example.com"),
    # with the user's id when a person did, so a page can show their name.
    status: str | None = None
    by: str | None = None
    by_user_id: uuid.UUID | None = None
    # Why it was not done: the error the one-incident action raised (the API answers it
    # as the problem the one-incident request would have got).
    error: TocsinError | None = None


async def apply(
    session: AsyncSession,
    *,
    action: BulkAction,
    incident_ids: Iterable[uuid.UUID],
    actor: Actor,
    via: str,
    now: datetime,
) -> list[Outcome]:
    """``action`` on every incident named, each on its own; one outcome per distinct id."""
    unique = sorted(set(incident_ids))
    if not unique:
        raise InvalidInput("incident_id", "choose at least one incident")
    if len(unique) > MAX_INCIDENTS:
        raise InvalidInput("incident_id", f"choose at most {MAX_INCIDENTS} incidents at once")
    step = _STEPS[action]
    return [await _one(session, step, incident_id, actor, via, now) for incident_id in unique]


Step = Callable[[AsyncSession, uuid.UUID, Actor, str, datetime], Awaitable[Incident]]


async def _acknowledge(
    session: AsyncSession, incident_id: uuid.UUID, actor: Actor, via: str, now: datetime
) -> Incident:
    return await incidents.acknowledge(
        session, incident_id=incident_id, actor=actor, via=via, now=now
    )


async def _resolve(
    session: AsyncSession, incident_id: uuid.UUID, actor: Actor, via: str, now: datetime
) -> Incident:
    return await incidents.resolve(session, incident_id=incident_id, actor=actor, via=via, now=now)


_STEPS: dict[BulkAction, Step] = {
    BulkAction.ACKNOWLEDGE: _acknowledge,
    BulkAction.RESOLVE: _resolve,
}


async def _one(
    session: AsyncSession,
    step: Step,
    incident_id: uuid.UUID,
    actor: Actor,
    via: str,
    now: datetime,
) -> Outcome:
    try:
        async with session.begin_nested():
            changed = await step(session, incident_id, actor, via, now)
    except StaleTransition as lost:
        winner = await session.get(Incident, incident_id, populate_existing=True)
        by_user_id = None
        if winner is not None:
            resolved = winner.status is IncidentStatus.RESOLVED
            by_user_id = winner.resolved_by_user_id if resolved else winner.acknowledged_by_user_id
        return Outcome(
            incident_id,
            Result.ALREADY,
            number=lost.extensions.get("number"),
            status=lost.extensions.get("incident_status"),
            by=lost.extensions.get("by"),
            by_user_id=by_user_id,
            error=lost,
        )
    except PermissionDenied as refused:
        found = await session.get(Incident, incident_id)
        return Outcome(
            incident_id,
            Result.NOT_ALLOWED,
            number=found.number if found else None,
            error=refused,
        )
    except NotFound as missing:
        return Outcome(incident_id, Result.NOT_FOUND, error=missing)
    return Outcome(incident_id, Result.DONE, number=changed.number, status=changed.status.value)
