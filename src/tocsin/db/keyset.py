"""Cursor ("keyset") pagination for list endpoints.

A page is fetched with ``WHERE (keys) > (last keys) ORDER BY keys LIMIT n+1``: pages stay
correct while rows are inserted, and page 1,000 costs what page 1 does. The cursor is the
last row's key values, base64-encoded; clients treat it as opaque. A cursor that does not
parse back into the key columns' types is refused as invalid input, never passed on.
"""

from __future__ import annotations

import base64
import binascii
import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, TypeVar

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from tocsin.errors import InvalidInput

T = TypeVar("T")

MAX_LIMIT = 200


@dataclass(frozen=True)
class Page(Generic[T]):
    items: list[T]
    next_cursor: str | None


async def fetch_page(
    session: AsyncSession,
    query: sa.Select[T],
    *,
    key: InstrumentedAttribute[Any] | Sequence[InstrumentedAttribute[Any]],
    cursor: str | None,
    limit: int,
    descending: bool = False,
) -> Page[T]:
    """``key`` is one unique column, or sort columns ending with a unique one."""
    columns = list(key) if isinstance(key, Sequence) else [key]
    if not 1 <= limit <= MAX_LIMIT:
        raise InvalidInput("limit", f"limit must be between 1 and {MAX_LIMIT}")
    if cursor is not None:
        texts = decode_cursor(cursor, len(columns))
        bound = sa.tuple_(
            *(
                sa.literal(_parse(text, column), column.type)
                for text, column in zip(texts, columns, strict=True)
            )
        )
        current = sa.tuple_(*columns)
        query = query.where(current < bound if descending else current > bound)
    order = [column.desc() if descending else column.asc() for column in columns]
    rows = list((await session.scalars(query.order_by(*order).limit(limit + 1))).all())
    if len(rows) <= limit:
        return Page(rows, None)
    rows = rows[:limit]
    last = rows[-1]
    return Page(rows, encode_cursor([getattr(last, column.key) for column in columns]))


def _parse(text: str, column: InstrumentedAttribute[Any]) -> object:
    python_type = column.type.python_type
    try:
        if python_type is datetime:
            parsed = datetime.fromisoformat(text)
            if parsed.tzinfo is None:
                raise ValueError("naive")
            return parsed
        if python_type in (int, uuid.UUID):
            return python_type(text)
    except ValueError as error:
        raise InvalidInput("cursor", "the cursor is not one this server issued") from error
    return text


def encode_cursor(values: Sequence[object]) -> str:
    text = json.dumps(
        [value.isoformat() if hasattr(value, "isoformat") else str(value) for value in values]
    )
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def decode_cursor(cursor: str, arity: int) -> list[str]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        values = json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (binascii.Error, ValueError, UnicodeDecodeError) as error:
        raise InvalidInput("cursor", "the cursor is not one this server issued") from error
    if not (
        isinstance(values, list)
        and len(values) == arity
        and all(isinstance(v, str) for v in values)
    ):
        raise InvalidInput("cursor", "the cursor is not one this server issued")
    return values
