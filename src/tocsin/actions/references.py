"""Rows a request refers to by id: they must exist, and must keep existing until commit.

A body that names a team, a policy, a service or a person gets a 422 naming the field
when the row does not exist (the URL's resource is fine; the body is wrong). The row is
read ``FOR KEY SHARE``: a concurrent delete of it waits for this transaction, then finds
the new reference and is refused, instead of this write failing on a foreign key at
commit. The lock is the weakest PostgreSQL has and does not block ordinary updates.
"""

from __future__ import annotations

import uuid
from typing import Any, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from tocsin.db.base import Base
from tocsin.errors import InvalidInput

M = TypeVar("M", bound=Base)


async def existing(
    session: AsyncSession, model: type[M], row_id: uuid.UUID, *, field: str, resource: str
) -> M:
    """The ``model`` row ``row_id``, share-locked; ``InvalidInput`` on ``field`` if none."""
    lock: dict[str, Any] = {"key_share": True}
    row = await session.get(model, row_id, with_for_update=lock)
    if row is None:
        raise InvalidInput(field, f"{resource} {row_id} does not exist")
    return row


def names(values: list[str], limit: int = 5) -> str:
    """``'a', 'b' and 3 more``: a readable list for a refusal's detail."""
    shown = ", ".join(repr(value) for value in values[:limit])
    rest = len(values) - limit
    return f"{shown} and {rest} more" if rest > 0 else shown
