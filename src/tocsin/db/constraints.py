"""Turning constraint violations into domain errors: ``AlreadyExists``, ``Conflict``.

Uniqueness is checked by the database, not by a read before the write: two concurrent
requests that both pass a read check would otherwise both insert. The flush that violates
the constraint is translated here into the domain error naming the field.
"""

from __future__ import annotations

from collections.abc import Mapping

import psycopg.errors
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from tocsin.errors import AlreadyExists, Conflict


async def flush_unique(
    session: AsyncSession,
    *,
    resource: str,
    fields: Mapping[str, tuple[str, object]],
) -> None:
    """Flush; a violation of a constraint named in ``fields`` (constraint → (field, value))
    becomes ``AlreadyExists`` for that field."""
    try:
        await session.flush()
    except IntegrityError as error:
        cause = error.orig
        if isinstance(cause, psycopg.errors.UniqueViolation):
            constraint = cause.diag.constraint_name or ""
            if constraint in fields:
                field, value = fields[constraint]
                raise AlreadyExists(resource, field, value) from error
        raise


async def flush_restricted(session: AsyncSession, *, detail: str, field: str | None = None) -> None:
    """Flush; a foreign-key violation becomes ``Conflict`` with ``detail``.

    Actions that delete check first and name what still uses the row; this is the net
    under that check for a reference that appeared in between (a RESTRICT violation), or
    for a write that refers to a row deleted meanwhile. Either way it is a 409, never a 500.
    """
    try:
        await session.flush()
    except IntegrityError as error:
        if isinstance(error.orig, psycopg.errors.ForeignKeyViolation):
            raise Conflict(detail, field=field) from error
        raise
