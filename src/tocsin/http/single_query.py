"""Refuse a query parameter given more than once where the API takes a single value.

FastAPI quietly keeps the last of ``?status=a&status=b`` for a scalar parameter, so a
client that believes it filtered by both gets answers filtered by one. Such a request is
answered 422 like any other invalid query, naming the parameter. Parameters declared as
lists (``?status=a&status=b`` meaning either) are left alone.
"""

from __future__ import annotations

import types
import typing
from collections.abc import Sequence

from fastapi import Request
from fastapi.dependencies.models import Dependant
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from pydantic import BaseModel


async def single_valued_query(request: Request) -> None:
    keys = [key for key, _ in request.query_params.multi_items()]
    if len(keys) == len(set(keys)):
        return  # the common case, and intake's: nothing repeated, nothing to look up
    route = request.scope.get("route")
    if not isinstance(route, APIRoute):
        return
    repeated = [
        name for name in _scalar_query_names(route) if len(request.query_params.getlist(name)) > 1
    ]
    if repeated:
        raise RequestValidationError(
            [
                {
                    "type": "too_many_values",
                    "loc": ("query", name),
                    "msg": "give this parameter once",
                    "input": request.query_params.getlist(name),
                }
                for name in repeated
            ]
        )


def _scalar_query_names(route: APIRoute) -> list[str]:
    return sorted(set(_scalar_names(route.dependant)))


def _scalar_names(dependant: Dependant) -> list[str]:
    names: list[str] = []
    for field in dependant.query_params:
        annotation = field.field_info.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            # A model of query parameters (``Annotated[Filters, Query()]``): its fields.
            names += [
                info.alias or name
                for name, info in annotation.model_fields.items()
                if not _is_sequence(info.annotation)
            ]
        elif not _is_sequence(annotation):
            names.append(field.alias)
    for inner in dependant.dependencies:
        names += _scalar_names(inner)
    return names


def _is_sequence(annotation: object) -> bool:
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        return any(_is_sequence(arm) for arm in typing.get_args(annotation))
    if origin is typing.Annotated:
        return _is_sequence(typing.get_args(annotation)[0])
    candidate = origin or annotation
    return (
        isinstance(candidate, type)
        and issubclass(candidate, (Sequence, set, frozenset))
        and not issubclass(candidate, (str, bytes))
    )
