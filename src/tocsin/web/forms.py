"""Reading submitted forms and trying an action on behalf of a page.

A page calls one action per submit. ``attempt`` runs it in a savepoint, so a refusal
(invalid input, a conflict) leaves nothing half-written when the request's transaction
commits, and hands the refusal back for the page to show beside the form. Permission and
not-found errors are not caught: they become the error pages they should be.

``submit`` is the whole of a page's post: attempt the change; on a refusal show the page
again with the reason; otherwise answer what ``done`` says (a redirect with a notice).
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import TypeVar

from fastapi.responses import Response
from sqlalchemy.ext.asyncio import AsyncSession

from tocsin.errors import Conflict, InvalidInput, with_article

T = TypeVar("T")


@dataclass(frozen=True)
class Refused:
    """Why an action refused what the form asked, in words for the page."""

    detail: str

    @property
    def message(self) -> str:
        return f"Not saved: {self.detail}."


async def attempt(session: AsyncSession, act: Callable[[], Awaitable[T]]) -> T | Refused:
    try:
        async with session.begin_nested():
            return await act()
    except (InvalidInput, Conflict) as refused:
        return Refused(refused.detail)


async def submit(
    session: AsyncSession,
    act: Callable[[], Awaitable[T]],
    *,
    done: Callable[[T], Response],
    refused: Callable[[Refused], Awaitable[Response]],
) -> Response:
    """``act`` as one change from a page: ``done(result)``, or ``refused(why)`` with
    nothing of ``act`` kept."""
    outcome = await attempt(session, act)
    if isinstance(outcome, Refused):
        return await refused(outcome)
    return done(outcome)


def text(form: Mapping[str, str], name: str) -> str:
    return form.get(name, "").strip()


def optional_int(form: Mapping[str, str], name: str) -> int | None:
    """A whole number, or ``None`` for an empty field."""
    value = text(form, name)
    if not value:
        return None
    try:
        return int(value)
    except ValueError:
        raise InvalidInput(name, f"{name.replace('_', ' ')} must be a whole number") from None


def optional_uuid(form: Mapping[str, str], name: str) -> uuid.UUID | None:
    value = text(form, name)
    if not value:
        return None
    try:
        return uuid.UUID(value)
    except ValueError:
        raise InvalidInput(name, _choose(name)) from None


def required_uuid(form: Mapping[str, str], name: str) -> uuid.UUID:
    found = optional_uuid(form, name)
    if found is None:
        raise InvalidInput(name, _choose(name))
    return found


def _choose(name: str) -> str:
    return f"choose {with_article(name.removesuffix('_id').replace('_', ' '))}"
