"""The problem+json body, as documented in the OpenAPI document for every error status."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict

from tocsin.http.problems import MEDIA_TYPE


class FieldError(BaseModel):
    field: str
    message: str
    model_config = ConfigDict(extra="allow")


class Problem(BaseModel):
    model_config = ConfigDict(extra="allow")

    type: str
    title: str
    status: int
    detail: str
    field: str | None = None
    errors: list[FieldError] | None = None


def _problem(description: str) -> dict[str, Any]:
    return {"description": description, "model": Problem, "content": {MEDIA_TYPE: {}}}


COMMON: dict[int | str, dict[str, Any]] = {
    400: _problem("Malformed request, e.g. a body that is not JSON"),
    401: _problem("No valid credentials"),
    403: _problem("Not allowed, or the API key lacks a scope"),
    413: _problem("Body too large"),
    422: _problem("A field is invalid; `field` names it"),
    429: _problem("Too many requests"),
    503: _problem("Database unavailable; retry"),
}
NOT_FOUND: dict[int | str, dict[str, Any]] = {404: _problem("No such resource")}
CONFLICT: dict[int | str, dict[str, Any]] = {409: _problem("Clashes with the current state")}
