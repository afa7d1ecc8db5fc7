"""Turning unique-constraint violations into ``AlreadyExists``.

Uniqueness is checked by the database, not by a read before the write: two concurrent
requests that both pass a read check would otherwise both insert. The flush that violates
the constraint is translated here into the domain error naming the field.
"""

from __future__ import annotations

from collections.abc import Mapping

import psycopg.errors
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from tocsin.errors import AlreadyExists


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
