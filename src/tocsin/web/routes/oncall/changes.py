"""Changing a schedule from its page: renaming it, changing its zone and deleting it,
adding, changing (name, people, shift length) and removing layers and setting the hours a
layer is on call (team admins), adding and removing overrides and swapping one's shift
with someone else's (responders; removing another's override takes a team admin).

A layer's start is a wall-clock time in the schedule's zone, as the rotation reads it; an
override's start and end are the viewer's wall-clock times, as people say them ("I'll
cover from 18:00 tonight"), and become instants here.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Mapping
from datetime import datetime, time

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlalchemy.ext.asyncio import AsyncSession

from tocsin.actions.oncall import on_call, overrides, schedules
from tocsin.db.models.schedules import Schedule, ScheduleOverride
from tocsin.domain.schedules.restrictions import Window
from tocsin.domain.schedules.rotations import LengthUnit, RotationLength
from tocsin.errors import InvalidInput
from tocsin.http.deps import DbSession, Now
from tocsin.web import forms
from tocsin.web.confirmation import ask_first
from tocsin.web.formatting import parse_local
from tocsin.web.pages import PageActor, SignedIn, redirect, require_csrf
from tocsin.web.routes.oncall import shift_choices
from tocsin.web.routes.oncall.schedules import schedule_page

router = APIRouter(prefix="/schedules/{schedule_id}", include_in_schema=False)


@router.post("")
async def update_schedule(
    schedule_id: uuid.UUID, request: Request, session: DbSession, now: Now, signed_in: PageActor
) -> Response:
    """Name, description and zone. A new zone keeps each layer's wall-clock handoffs
    (09:00 stays 09:00, now in the new zone), as the action says."""
    form = await require_csrf(request, signed_in)

    async def act() -> Schedule:
        return await schedules.update_schedule(
            session,
            actor=signed_in.actor,
            schedule_id=schedule_id,
            name=forms.text(form, "name"),
            description=forms.text(form, "description"),
            time_zone=forms.text(form, "time_zone"),
            now=now,
        )

    return await _change(request, session, now, signed_in, schedule_id, act, "Schedule saved.")


@router.post("/delete")
async def delete_schedule(
    schedule_id: uuid.UUID, request: Request, session: DbSession, now: Now, signed_in: PageActor
) -> Response:
    fields = await require_csrf(request, signed_in)
    if question := ask_first(request, signed_in, fields, back=f"/schedules/{schedule_id}"):
        return question

    async def act() -> None:
        await schedules.delete_schedule(
            session, actor=signed_in.actor, schedule_id=schedule_id, now=now
        )

    # A schedule a policy pages is refused on its own page, in red, naming the policies.
    return await forms.submit(
        session,
        act,
        done=lambda _: redirect("/schedules", notice="Schedule deleted."),
        refused=lambda why: schedule_page(
            request,
            session,
            now,
            signed_in,
            schedule_id,
            error=f"Not deleted: {why.detail}.",
            status_code=409,
        ),
    )


@router.post("/layers")
async def add_layer(
    schedule_id: uuid.UUID, request: Request, session: DbSession, now: Now, signed_in: PageActor
) -> Response:
    form = await require_csrf(request, signed_in)

    async def act() -> on_call.LoadedSchedule:
        try:
            start = datetime.fromisoformat(forms.text(form, "start")).replace(tzinfo=None)
        except ValueError:
            raise InvalidInput(
                "start", "give the first handoff, such as 2026-03-02T09:00"
            ) from None
        participants = _participants(form)
        return await schedules.add_layer(
            session,
            actor=signed_in.actor,
            schedule_id=schedule_id,
            spec=schedules.LayerSpec(
                name=forms.text(form, "name"),
                start=start,
                length=_length(form),
                participants=participants,
                windows=_restriction(form),
            ),
            now=now,
        )

    return await _change(
        request, session, now, signed_in, schedule_id, act, "Layer added on top.", typed=form
    )


@router.post("/layers/{layer_id}/delete")
async def delete_layer(
    schedule_id: uuid.UUID,
    layer_id: uuid.UUID,
    request: Request,
    session: DbSession,
    now: Now,
    signed_in: PageActor,
) -> Response:
    fields = await require_csrf(request, signed_in)
    if (
        question := ask_first(request, signed_in, fields, back=f"/schedules/{schedule_id}")
    ) is not None:
        return question
    await schedules.delete_layer(
        session, actor=signed_in.actor, schedule_id=schedule_id, layer_id=layer_id, now=now
    )
    return redirect(f"/schedules/{schedule_id}", notice="Layer removed.")


@router.post("/layers/{layer_id}")
async def update_layer(
    schedule_id: uuid.UUID,
    layer_id: uuid.UUID,
    request: Request,
    session: DbSession,
    now: Now,
    signed_in: PageActor,
) -> Response:
    """A layer's name, shift length and people in turn (its handoff time and on-call
    hours have forms of their own)."""
    form = await require_csrf(request, signed_in)

    async def act() -> on_call.LoadedSchedule:
        return await schedules.update_layer(
            session,
            actor=signed_in.actor,
            schedule_id=schedule_id,
            layer_id=layer_id,
            spec=schedules.LayerSpec(
                name=forms.text(form, "name"),
                length=_length(form),
                participants=_participants(form),
            ),
            now=now,
        )

    return await _change(request, session, now, signed_in, schedule_id, act, "Layer saved.")


@router.post("/layers/{layer_id}/restriction")
async def restrict_layer(
    schedule_id: uuid.UUID,
    layer_id: uuid.UUID,
    request: Request,
    session: DbSession,
    now: Now,
    signed_in: PageActor,
) -> Response:
    form = await require_csrf(request, signed_in)

    async def act() -> on_call.LoadedSchedule:
        return await schedules.update_layer(
            session,
            actor=signed_in.actor,
            schedule_id=schedule_id,
            layer_id=layer_id,
            spec=schedules.LayerSpec(windows=_restriction(form)),
            now=now,
        )

    return await _change(request, session, now, signed_in, schedule_id, act, "On-call times saved.")


@router.post("/overrides")
async def add_override(
    schedule_id: uuid.UUID, request: Request, session: DbSession, now: Now, signed_in: PageActor
) -> Response:
    form = await require_csrf(request, signed_in)
    zone = signed_in.user.time_zone

    async def act() -> ScheduleOverride:
        return await overrides.create_override(
            session,
            actor=signed_in.actor,
            schedule_id=schedule_id,
            user_id=forms.required_uuid(form, "user_id"),
            starts_at=parse_local(form.get("starts_at"), zone, "starts_at"),
            ends_at=parse_local(form.get("ends_at"), zone, "ends_at"),
            replaces_user_id=forms.optional_uuid(form, "replaces_user_id"),
            reason=forms.text(form, "reason"),
            now=now,
        )

    return await _change(request, session, now, signed_in, schedule_id, act, "Override added.")


@router.post("/swaps")
async def swap_shifts(
    schedule_id: uuid.UUID, request: Request, session: DbSession, now: Now, signed_in: PageActor
) -> Response:
    form = await require_csrf(request, signed_in)

    async def act() -> tuple[ScheduleOverride, ScheduleOverride]:
        return await overrides.create_swap(
            session,
            actor=signed_in.actor,
            schedule_id=schedule_id,
            first=shift_choices.chosen(form.get("mine"), "mine"),
            second=shift_choices.chosen(form.get("theirs"), "theirs"),
            reason=forms.text(form, "reason"),
            now=now,
        )

    return await _change(request, session, now, signed_in, schedule_id, act, "Shifts swapped.")


@router.post("/overrides/{override_id}/delete")
async def delete_override(
    schedule_id: uuid.UUID,
    override_id: uuid.UUID,
    request: Request,
    session: DbSession,
    now: Now,
    signed_in: PageActor,
) -> Response:
    fields = await require_csrf(request, signed_in)
    if (
        question := ask_first(request, signed_in, fields, back=f"/schedules/{schedule_id}")
    ) is not None:
        return question
    await overrides.delete_override(
        session, actor=signed_in.actor, schedule_id=schedule_id, override_id=override_id, now=now
    )
    return redirect(f"/schedules/{schedule_id}", notice="Override removed.")


async def _change(
    request: Request,
    session: AsyncSession,
    now: datetime,
    signed_in: SignedIn,
    schedule_id: uuid.UUID,
    act: Callable[[], Awaitable[object]],
    notice: str,
    *,
    typed: Mapping[str, str] | None = None,
) -> Response:
    """Run ``act`` as one change from the page: back to the schedule saying ``notice``, or
    the page again saying why it was refused (nothing of ``act`` kept)."""
    return await forms.submit(
        session,
        act,
        done=lambda _: redirect(f"/schedules/{schedule_id}", notice=notice),
        refused=lambda why: schedule_page(
            request, session, now, signed_in, schedule_id, error=why.message, typed=typed
        ),
    )


def _length(form: Mapping[str, str]) -> RotationLength:
    """A shift length from ``count`` and ``unit``: hours, days, or weeks (kept as days,
    the rotation's own unit, seven to a week)."""
    unit = forms.text(form, "unit")
    if unit not in WEEKS_AND_UNITS:
        raise InvalidInput("unit", "choose hours, days or weeks")
    count = forms.optional_int(form, "count")
    count = 1 if count is None else count
    try:
        if unit == WEEKS:
            return RotationLength(LengthUnit.DAYS, count * 7)
        return RotationLength(LengthUnit(unit), count)
    except ValueError as wrong:
        raise InvalidInput("count", str(wrong)) from None


WEEKS = "weeks"
WEEKS_AND_UNITS = (*LengthUnit, WEEKS)


def _participants(form: dict[str, str]) -> tuple[uuid.UUID, ...]:
    """The rotation's people in slot order (``participant-0``, ``participant-1``, …)."""
    slots: list[tuple[int, str]] = []
    for key, value in form.items():
        prefix, _, number = key.partition("participant-")
        if not prefix and number.isdigit() and value.strip():
            slots.append((int(number), value.strip()))
    try:
        return tuple(uuid.UUID(value) for _, value in sorted(slots))
    except ValueError:
        raise InvalidInput("participants", "choose people from the list") from None


def _restriction(form: Mapping[str, str]) -> tuple[Window, ...]:
    """The one window the page offers: the days ticked (``day-1`` Monday to ``day-7``)
    and the local times ``from`` and ``until``. Nothing given: no restriction. Days
    alone: those whole days; times alone: those hours every day."""
    days = frozenset(day for day in range(1, 8) if form.get(f"day-{day}"))
    opens, closes = form.get("from", "").strip(), form.get("until", "").strip()
    if not days and not opens and not closes:
        return ()
    if bool(opens) != bool(closes):
        missing = "until" if opens else "from"
        raise InvalidInput(missing, "give both times, or neither for whole days")
    # A window whose end is its start runs a whole day (see ``Window.opening_on``).
    start = _clock_time(form, "from") if opens else time(0)
    end = _clock_time(form, "until") if closes else time(0)
    return (Window(days or frozenset(range(1, 8)), start, end),)


def _clock_time(form: Mapping[str, str], name: str) -> time:
    try:
        value = time.fromisoformat(form[name].strip())
    except ValueError:
        raise InvalidInput(name, "give a time such as 09:00") from None
    if value.second or value.microsecond or value.tzinfo is not None:
        raise InvalidInput(name, "give a local time in whole minutes, such as 09:00")
    return value
