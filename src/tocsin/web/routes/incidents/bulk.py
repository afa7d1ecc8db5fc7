"""Acknowledge or resolve from the incident list: one row's button, or the rows ticked.

Both are plain form posts (htmx only upgrades them) carrying one ``incident_id`` per
incident, answered by a redirect back to the list as it was filtered. Every incident goes
through the same action, permission check and compare-and-set as its own page and the
API (``actions/incidents/bulk.py``); what could not be done (already resolved by someone
else, another team's incident) is said in red beside what was done, never a 500.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlalchemy.ext.asyncio import AsyncSession

from tocsin.actions.identity import directory
from tocsin.actions.incidents import bulk
from tocsin.errors import InvalidInput
from tocsin.http.deps import DbSession, Now
from tocsin.web.pages import PageActor, SignedIn, redirect, require_csrf, safe_next

router = APIRouter(prefix="/incidents", include_in_schema=False)
VIA = "web"
LIST = "/incidents"
DONE_VERB = {bulk.BulkAction.ACKNOWLEDGE: "Acknowledged", bulk.BulkAction.RESOLVE: "Resolved"}


@router.post("/acknowledge")
async def acknowledge_selected(
    request: Request, session: DbSession, now: Now, signed_in: PageActor
) -> Response:
    return await _apply(request, session, now, signed_in, bulk.BulkAction.ACKNOWLEDGE)


@router.post("/resolve")
async def resolve_selected(
    request: Request, session: DbSession, now: Now, signed_in: PageActor
) -> Response:
    return await _apply(request, session, now, signed_in, bulk.BulkAction.RESOLVE)


async def _apply(
    request: Request,
    session: AsyncSession,
    now: datetime,
    signed_in: SignedIn,
    action: bulk.BulkAction,
) -> Response:
    fields = await require_csrf(request, signed_in)
    back = _back_to(fields.get("next"))
    # The form was read (and cached) by require_csrf; its repeated fields are here.
    chosen = [
        value for value in (await request.form()).getlist("incident_id") if isinstance(value, str)
    ]
    ids = [parsed for parsed in map(_uuid, chosen) if parsed is not None]
    try:
        if len(ids) < len(chosen):
            raise InvalidInput("incident_id", "the form named an incident that is not one")
        outcomes = await bulk.apply(
            session, action=action, incident_ids=ids, actor=signed_in.actor, via=VIA, now=now
        )
    except InvalidInput as refused:
        return redirect(back, error=f"Nothing {DONE_VERB[action].lower()}: {refused.detail}.")
    winners = await directory.users(
        session, actor=signed_in.actor, ids=[item.by_user_id for item in outcomes]
    )
    names = {user_id: user.name for user_id, user in winners.items()}
    done, not_done = summary(action, outcomes, names)
    return redirect(back, notice=done, error=not_done)


def summary(
    action: bulk.BulkAction, outcomes: Sequence[bulk.Outcome], names: Mapping[uuid.UUID, str]
) -> tuple[str, str]:
    """What was done ("Acknowledged #3 and #5.") and, plainly, what was not and why."""
    done = [item for item in outcomes if item.result is bulk.Result.DONE]
    not_done: list[str] = []
    # One sentence per reason, not per incident: fifty rows lost to one colleague read
    # "#3, #4, … and #52 were already acknowledged by Bob".
    already: dict[tuple[str | None, str | None], list[bulk.Outcome]] = {}
    for item in outcomes:
        if item.result is bulk.Result.ALREADY:
            who = names.get(item.by_user_id) if item.by_user_id else item.by
            already.setdefault((item.status, who), []).append(item)
    for (status, who), items in already.items():
        were = "was" if len(items) == 1 else "were"
        by = f" by {who}" if who else ""
        not_done.append(f"{_numbers(items)} {were} already {status}{by}")
    refused = [item for item in outcomes if item.result is bulk.Result.NOT_ALLOWED]
    if refused:
        belong = "belongs to a team" if len(refused) == 1 else "belong to teams"
        not_done.append(f"{_numbers(refused)} {belong} you do not respond for")
    missing = sum(item.result is bulk.Result.NOT_FOUND for item in outcomes)
    if missing:
        not_done.append(
            "one incident no longer exists"
            if missing == 1
            else f"{missing} incidents no longer exist"
        )
    verb = DONE_VERB[action]
    said = f"{verb} {_numbers(done)}." if done else ""
    if not not_done:
        return said, ""
    prefix = f"Not {verb.lower()}" if done else f"Nothing {verb.lower()}"
    return said, f"{prefix}: {'; '.join(not_done)}."


def _numbers(outcomes: Sequence[bulk.Outcome]) -> str:
    """ "#3, #5 and #9", in the order people count (the action goes in id order)."""
    numbers = [f"#{number}" for number in sorted(item.number or 0 for item in outcomes)]
    if len(numbers) == 1:
        return numbers[0]
    return f"{', '.join(numbers[:-1])} and {numbers[-1]}"


def _back_to(path: str | None) -> str:
    """The list the person was looking at (its filters and page), and nowhere else."""
    target = safe_next(path)
    return target if target == LIST or target.startswith(f"{LIST}?") else LIST


def _uuid(text: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(text)
    except ValueError:
        return None
