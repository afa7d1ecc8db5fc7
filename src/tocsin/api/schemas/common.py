"""Shapes shared by every resource: the list page, and the base of request bodies."""

from __future__ import annotations

import re
from typing import Annotated, Any, Generic, TypeVar

from pydantic import AwareDatetime, BaseModel, BeforeValidator, ConfigDict, Field, field_validator

T = TypeVar("T")


class RequestBody(BaseModel):
    """Request bodies refuse unknown fields: a typo must fail loudly, not be ignored.

    Text may not contain NUL characters: PostgreSQL cannot store them, and a value that
    cannot be stored must be refused at the door, naming its field, not fail later.
    """

    model_config = ConfigDict(extra="forbid")

    @field_validator("*", mode="before")
    @classmethod
    def _no_nul_characters(cls, value: Any) -> Any:
        if _contains_nul(value):
            raise ValueError("text must not contain NUL characters")
        return value


def _contains_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, list | tuple):
        return any(_contains_nul(item) for item in value)
    if isinstance(value, dict):
        return any(_contains_nul(key) or _contains_nul(item) for key, item in value.items())
    return False


class ResponseBody(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class Page(BaseModel, Generic[T]):
    items: list[T]
    next_cursor: str | None = Field(
        description="Pass as `cursor` to get the next page; null on the last page."
    )


_NUMBER = re.compile(r"[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?")


def not_a_number(value: object) -> object:
    # pydantic would read a bare number as a Unix timestamp; an API that documents
    # date-times must refuse one rather than guess.
    if isinstance(value, int | float) or (isinstance(value, str) and _NUMBER.fullmatch(value)):
        raise ValueError("an ISO 8601 date-time with an offset, such as 2026-03-02T09:00:00Z")
    return value


Instant = Annotated[AwareDatetime, BeforeValidator(not_a_number)]
