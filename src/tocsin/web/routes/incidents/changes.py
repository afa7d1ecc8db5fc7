"""The buttons on an incident page: acknowledge, resolve, snooze, escalate, reassign, note.

Each is a plain form post (works without JavaScript) that calls the same action as the API
and redirects back to the incident (post/redirect/get). htmx posts the same forms and
swaps the page's ``main`` in place from the redirected response.

Each action runs in a savepoint, so a refusal (invalid input) or a lost race leaves
nothing half-done when the request's transaction commits. A lost race is not an error
page: the incident page is shown again, in its winning state, saying who got there first
and when (409 for a plain post; 200 for htmx, which does not swap error responses).
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from tocsin.actions.identity import directory
from tocsin.actions.incidents import incidents, queries
from tocsin.db.models.incidents import Incident
from tocsin.errors import InvalidInput, StaleTransition
from tocsin.http.deps import DbSession, Now
from tocsin.web.pages import PageActor, SignedIn, redirect, require_csrf
from tocsin.web.routes.incidents.pages import incident_page, state_sentence

router = APIRouter(prefix="/incidents/{incident_id}", include_in_schema=False)
VIA = "web"


@router.post("/acknowledge")
async def acknowledge(
    incident_id: uuid.UUID, request: Request, session: DbSession, now: Now, signed_in: PageActor
) -> Response:
    await require_csrf(request, signed_in)
    return await attempt(
        request,
        session,
        signed_in,
        incident_id,
        lambda: incidents.acknowledge(
            session, incident_id=incident_id, actor=signed_in.actor, via=VIA, now=now
        ),
        done="Acknowledged: escalation stopped.",
    )


@router.post("/resolve")
async def resolve(
    incident_id: uuid.UUID, request: Request, session: DbSession, now: Now, signed_in: PageActor
) -> Response:
    form = await require_csrf(request, signed_in)
    note = form.get("note", "").strip()[:10_000] or None
    return await attempt(
        request,
        session,
        signed_in,
        incident_id,
        lambda: incidents.resolve(
            session, incident_id=incident_id, actor=signed_in.actor, via=VIA, now=now, note=note
        ),
        done="Resolved.",
    )


@router.post("/snooze")
async def snooze(
    incident_id: uuid.UUID, request: Request, session: DbSession, now: Now, signed_in: PageActor
) -> Response:
    form = await require_csrf(request, signed_in)

    async def act() -> Incident:
        minutes = _integer(form.get("minutes"), "minutes")
        if minutes is None:
            raise InvalidInput("minutes", "choose how long to snooze for")
        return await incidents.snooze(
            session,
            incident_id=incident_id,
            actor=signed_in.actor,
            duration=timedelta(minutes=minutes),
            via=VIA,
            now=now,
        )

    return await attempt(request, session, signed_in, incident_id, act, done="Snoozed.")


@router.post("/escalate")
async def escalate(
    incident_id: uuid.UUID, request: Request, session: DbSession, now: Now, signed_in: PageActor
) -> Response:
    form = await require_csrf(request, signed_in)

    async def act() -> Incident:
        level = _integer(form.get("level"), "level")
        return await incidents.escalate_now(
            session, incident_id=incident_id, actor=signed_in.actor, now=now, level=level
        )

    return await attempt(
        request,
        session,
        signed_in,
        incident_id,
        act,
        done=lambda changed: f"Escalated: level {changed.escalation_level} paged.",
    )


@router.post("/reassign")
async def reassign(
    incident_id: uuid.UUID, request: Request, session: DbSession, now: Now, signed_in: PageActor
) -> Response:
    form = await require_csrf(request, signed_in)
    kind, _, raw = form.get("target", "").partition(":")

    async def act() -> Incident:
        try:
            target = uuid.UUID(raw)
        except ValueError:
            raise InvalidInput("target", "choose a person or an escalation policy") from None
        return await incidents.reassign(
            session,
            incident_id=incident_id,
            actor=signed_in.actor,
            now=now,
            user_id=target if kind == "user" else None,
            policy_id=target if kind == "policy" else None,
        )

    return await attempt(request, session, signed_in, incident_id, act, done="Reassigned.")


@router.post("/notes")
async def add_note(
    incident_id: uuid.UUID, request: Request, session: DbSession, now: Now, signed_in: PageActor
) -> Response:
    form = await require_csrf(request, signed_in)

    async def act() -> None:
        await incidents.add_note(
            session,
            incident_id=incident_id,
            actor=signed_in.actor,
            text=form.get("text", ""),
            now=now,
        )

    return await attempt(request, session, signed_in, incident_id, act, done="Note added.")


async def attempt(
    request: Request,
    session: DbSession,
    signed_in: SignedIn,
    incident_id: uuid.UUID,
    act: Callable[[], Awaitable[Any]],
    *,
    done: str | Callable[[Any], str],
) -> Response:
    # Read first: a missing incident is a 404 page, not a message on a page that is not there.
    await queries.get_incident(session, actor=signed_in.actor, incident_id=incident_id)
    htmx = request.headers.get("hx-request") == "true"
    try:
        async with session.begin_nested():
            result = await act()
    except StaleTransition:
        message = await _lost_message(session, signed_in, incident_id)
        return await incident_page(
            request,
            session,
            signed_in,
            incident_id,
            error=message,
            status_code=200 if htmx else 409,
        )
    except InvalidInput as refused:
        return await incident_page(
            request,
            session,
            signed_in,
            incident_id,
            error=f"Not done: {refused.detail}.",
            status_code=200 if htmx else 422,
        )
    return redirect(
        f"/incidents/{incident_id}", notice=done if isinstance(done, str) else done(result)
    )


async def _lost_message(session: DbSession, signed_in: SignedIn, incident_id: uuid.UUID) -> str:
    incident = await queries.get_incident(session, actor=signed_in.actor, incident_id=incident_id)
    await session.refresh(incident)
    people = await directory.users(
        session,
        actor=signed_in.actor,
        ids=[incident.acknowledged_by_user_id, incident.resolved_by_user_id],
    )
    names = {user_id: user.name for user_id, user in people.items()}
    state = state_sentence(incident, names, signed_in.user.time_zone)
    return f"Someone got there first: #{incident.number} was already {state}. Nothing was changed."


def _integer(value: str | None, field: str) -> int | None:
    if value is None or not value.strip():
        return None
    try:
        return int(value)
    except ValueError:
        raise InvalidInput(field, "a whole number") from None
