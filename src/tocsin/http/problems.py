"""RFC 9457 problem+json: the one shape of every error response.

Each problem has a stable ``type`` (``/problems/<slug>``, documented at that URL by the app
itself), a ``title``, the HTTP ``status``, a human ``detail`` and, where a field is at
fault, ``field`` naming it (and ``errors`` listing every field for validation failures).
Handlers here are the only place exceptions become HTTP responses.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any, Protocol

import psycopg
import psycopg_pool
import sqlalchemy.exc
import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from tocsin import errors
from tocsin.http import allowed_methods
from tocsin.http.context import context_of
from tocsin.ingest import errors as intake_errors

MEDIA_TYPE = "application/problem+json"

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class ProblemType:
    slug: str
    title: str
    status: int
    description: str


PROBLEM_TYPES: dict[str, ProblemType] = {
    problem.slug: problem
    for problem in [
        ProblemType(
            "validation-error",
            "Invalid request",
            422,
            "A field is missing, has the wrong type, or breaks a rule. `errors` lists each field.",
        ),
        ProblemType("malformed-json", "Malformed JSON", 400, "The request body is not valid JSON."),
        ProblemType(
            "payload-too-large",
            "Payload too large",
            413,
            "The request body is larger than this endpoint accepts.",
        ),
        ProblemType(
            errors.InvalidInput.code,
            errors.InvalidInput.title,
            422,
            "A value is well-formed but not acceptable, e.g. an unknown time zone.",
        ),
        ProblemType(
            errors.NotFound.code,
            errors.NotFound.title,
            404,
            "The resource does not exist, or the URL names no endpoint.",
        ),
        ProblemType(
            "method-not-allowed",
            "Method not allowed",
            405,
            "The endpoint exists but does not accept this HTTP method.",
        ),
        ProblemType(
            errors.Conflict.code,
            errors.Conflict.title,
            409,
            "The request clashes with the current state of the resource.",
        ),
        ProblemType(
            errors.AlreadyExists.code,
            errors.AlreadyExists.title,
            409,
            "A value that must be unique is already taken; `field` names it.",
        ),
        ProblemType(
            errors.StaleTransition.code,
            errors.StaleTransition.title,
            409,
            "Someone else changed the state first; the body says who and when.",
        ),
        ProblemType(
            errors.NotAuthenticated.code,
            errors.NotAuthenticated.title,
            401,
            "Send a valid API key as `Authorization: Bearer tsk_…`, or sign in.",
        ),
        # The intake's own errors: senders and their operators match on these types.
        ProblemType(
            intake_errors.MalformedPayload.code,
            intake_errors.MalformedPayload.title,
            400,
            "An alert body breaks its source's format. `field` names the first broken field "
            "as a path (`alerts[0].fingerprint`), `errors` lists every one. Fix the sender's "
            "template: the same body will be refused again.",
        ),
        ProblemType(
            intake_errors.IdempotencyKeyReused.code,
            intake_errors.IdempotencyKeyReused.title,
            422,
            "An idempotency key (`Idempotency-Key`, or a Standard Webhooks `webhook-id`) that "
            "was already applied came with a different request. Nothing was applied: a retry "
            "must repeat its request exactly, and a new event needs a new key.",
        ),
        ProblemType(
            intake_errors.SignatureMissing.code,
            intake_errors.SignatureMissing.title,
            401,
            "The integration verifies signatures and the request carried none.",
        ),
        ProblemType(
            intake_errors.SignatureInvalid.code,
            intake_errors.SignatureInvalid.title,
            401,
            "The signature does not match the body and the integration's signing secret.",
        ),
        ProblemType(
            intake_errors.SignatureExpired.code,
            intake_errors.SignatureExpired.title,
            401,
            "The signature matches, but its timestamp is more than 300 s from tocsin's clock.",
        ),
        ProblemType(
            errors.PermissionDenied.code,
            errors.PermissionDenied.title,
            403,
            "You are signed in, but your role does not allow this action.",
        ),
        ProblemType(
            errors.MissingScope.code,
            errors.MissingScope.title,
            403,
            "The API key is valid but lacks the scope this endpoint needs; `scope` names it.",
        ),
        ProblemType(
            errors.CsrfFailed.code,
            errors.CsrfFailed.title,
            403,
            "A browser request that changes state lacked a valid CSRF token.",
        ),
        ProblemType(
            errors.RateLimited.code,
            errors.RateLimited.title,
            429,
            "Too many attempts. Wait the number of seconds in `Retry-After`.",
        ),
        ProblemType(
            errors.ServiceUnavailable.code,
            errors.ServiceUnavailable.title,
            503,
            "The database cannot be reached. Retry after `Retry-After` seconds.",
        ),
        ProblemType(
            "unsupported-media-type",
            "Unsupported media type",
            415,
            "Send the body as `application/json`.",
        ),
        ProblemType("http-error", "HTTP error", 400, "A protocol-level error."),
        ProblemType(
            "internal-error",
            "Internal error",
            500,
            "tocsin failed unexpectedly. The error is logged; nothing you sent is lost.",
        ),
    ]
}

_STATUS_OF_ERROR: Sequence[tuple[type[errors.TocsinError], int]] = [
    (errors.InvalidInput, 422),
    (errors.NotFound, 404),
    (errors.Conflict, 409),
    (errors.NotAuthenticated, 401),
    (errors.PermissionDenied, 403),
    (errors.PayloadTooLarge, 413),
    (errors.RateLimited, 429),
    (errors.ServiceUnavailable, 503),
]

_SLUG_OF_STATUS = {
    404: "not-found",
    405: "method-not-allowed",
    413: "payload-too-large",
    415: "unsupported-media-type",
    401: "not-authenticated",
    403: "forbidden",
}


def problem_response(
    slug: str,
    *,
    status: int | None = None,
    detail: str | None = None,
    headers: dict[str, str] | None = None,
    **extensions: Any,
) -> JSONResponse:
    body = _document(slug, status, detail, extensions)
    return JSONResponse(body, status_code=body["status"], media_type=MEDIA_TYPE, headers=headers)


def _document(
    slug: str, status: int | None, detail: str | None, extensions: dict[str, Any]
) -> dict[str, Any]:
    kind = PROBLEM_TYPES.get(slug, PROBLEM_TYPES["http-error"])
    code = status or kind.status
    body: dict[str, Any] = {
        "type": f"/problems/{kind.slug}",
        "title": kind.title if kind.slug == slug else HTTPStatus(code).phrase,
        "status": code,
        "detail": detail or kind.description,
    }
    body.update({key: value for key, value in extensions.items() if value is not None})
    return body


def status_of(error: errors.TocsinError) -> int:
    for error_type, status in _STATUS_OF_ERROR:
        if isinstance(error, error_type):
            return status
    return 400


# Names an error's extensions may not take: the problem's members and this module's
# parameters.
_RESERVED = frozenset({"type", "title", "status", "detail", "headers", "slug"})


def error_response(error: errors.TocsinError) -> JSONResponse:
    headers = None
    retry_after = getattr(error, "retry_after", None)
    if retry_after is not None:
        headers = {"Retry-After": str(retry_after)}
    if isinstance(error, errors.NotAuthenticated):
        headers = {**(headers or {}), "WWW-Authenticate": error.challenge}
    return problem_response(
        error.code,
        status=status_of(error),
        detail=error.detail,
        headers=headers,
        **_extensions(error),
    )


def problem_body(error: errors.TocsinError) -> dict[str, Any]:
    """The problem+json document ``error`` is answered with, as a value: for answers that
    hold one problem per item (a bulk request's refused incidents)."""
    return _document(error.code, status_of(error), error.detail, _extensions(error))


def _extensions(error: errors.TocsinError) -> dict[str, Any]:
    # An extension named like a member of the problem (or a parameter here) would make
    # problem_response raise and turn the error into a 500; the problem's own members win.
    return {name: value for name, value in error.extensions.items() if name not in _RESERVED}


def field_path(location: Sequence[str | int]) -> str:
    """``("body", "members", 0, "role")`` → ``members[0].role``; query/path keep the name."""
    parts = (
        list(location[1:])
        if location and location[0] in ("body", "query", "path", "header", "cookie")
        else list(location)
    )
    text = ""
    for part in parts:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else str(part)
    return text or (str(location[0]) if location else "body")


# Where a sender's own protocol fixes the shape of every answer, errors included: PagerDuty's
# Events API clients read ``status``/``message``/``errors`` (protocols.md §1.1).
PAGERDUTY_PATHS = frozenset({"/v2/enqueue", "/v2/change/enqueue"})

# Seconds a client is asked to wait after a 503: about a database restart's length.
RETRY_AFTER = 5


def pagerduty_error(problem: JSONResponse) -> JSONResponse:
    """``problem`` in the body PagerDuty's Events API answers errors with, same status and
    headers (``Retry-After`` included)."""
    body = json.loads(bytes(problem.body))
    messages = [item["message"] for item in body.get("errors", []) if "message" in item]
    headers = {
        name: value
        for name, value in problem.headers.items()
        if name.lower() not in ("content-length", "content-type")
    }
    return JSONResponse(
        {
            "status": body["title"],
            "message": body["detail"],
            "errors": messages or [body["detail"]],
        },
        status_code=problem.status_code,
        headers=headers,
    )


def validation_response(error: RequestValidationError) -> JSONResponse:
    details = list(error.errors())
    if any(item.get("type") == "json_invalid" for item in details):
        message = next(
            item.get("msg", "") for item in details if item.get("type") == "json_invalid"
        )
        return problem_response(
            "malformed-json", detail=f"the body is not valid JSON: {message}", field="body"
        )
    fields = [
        {
            "field": field_path(item.get("loc", ())),
            "in": str(item.get("loc", ("body",))[0]),
            "message": item.get("msg", "invalid"),
        }
        for item in details
    ]
    first = fields[0] if fields else {"field": "body", "message": "invalid"}
    return problem_response(
        "validation-error",
        detail=f"{first['field']}: {first['message']}",
        field=first["field"],
        errors=fields,
    )


class PageRenderer(Protocol):
    """Renders an error as an HTML page for people in a browser (see ``web/errors.py``)."""

    def wants_page(self, request: Request) -> bool: ...

    def error_page(self, request: Request, *, status: int, title: str, detail: str) -> Response: ...


def install(app: FastAPI, pages: PageRenderer | None = None) -> None:
    def respond(request: Request, problem: JSONResponse) -> Response:
        if request.url.path in PAGERDUTY_PATHS:
            return pagerduty_error(problem)
        if pages is None or not pages.wants_page(request):
            return problem
        body = json.loads(bytes(problem.body))
        page = pages.error_page(
            request, status=problem.status_code, title=body["title"], detail=body["detail"]
        )
        for name in ("retry-after",):
            if name in problem.headers:
                page.headers[name] = problem.headers[name]
        return page

    async def on_tocsin_error(request: Request, error: Exception) -> Response:
        assert isinstance(error, errors.TocsinError)
        return respond(request, error_response(error))

    async def on_validation_error(request: Request, error: Exception) -> Response:
        assert isinstance(error, RequestValidationError)
        return respond(request, validation_response(error))

    async def on_http_error(request: Request, error: Exception) -> Response:
        assert isinstance(error, StarletteHTTPException)
        slug = _SLUG_OF_STATUS.get(error.status_code, "http-error")
        detail = error.detail if isinstance(error.detail, str) else None
        if error.status_code == 404 and detail == "Not Found":
            detail = "no endpoint at this URL"
        headers = dict(error.headers or {})
        if error.status_code == 405:
            methods = allowed_methods.allowed(request.app, request.scope)
            if methods:
                headers["Allow"] = ", ".join(methods)
                detail = f"{request.method} is not allowed here; this URL takes {headers['Allow']}"
        return respond(
            request,
            problem_response(slug, status=error.status_code, detail=detail, headers=headers),
        )

    async def on_database_down(request: Request, error: Exception) -> Response:
        cause = getattr(error, "orig", error)
        if isinstance(cause, psycopg.errors.DeadlockDetected | psycopg.errors.SerializationFailure):
            # Not an outage: concurrent changes collided and this one lost; nothing of it
            # was kept, and trying again will succeed.
            detail = "a concurrent change collided with this one; nothing was applied, retry"
        elif context_of(request).database.availability.failed(error):
            # Logged once for the whole outage (db/availability.py), not once per request.
            detail = "the database is unreachable"
        else:
            log.warning("database unavailable", path=request.url.path, error=str(error))
            detail = "the database is unreachable"
        return respond(
            request, error_response(errors.ServiceUnavailable(detail, retry_after=RETRY_AFTER))
        )

    async def on_bad_data(request: Request, error: Exception) -> Response:
        # A safety net: input reached the database in a form it cannot store. Validation
        # at the edge should have caught it; it is still the request's fault, not a 500.
        log.warning("database refused a value", path=request.url.path, error=str(error))
        return respond(
            request,
            error_response(errors.InvalidInput("body", "a value cannot be stored as given")),
        )

    async def on_unexpected(request: Request, error: Exception) -> Response:
        log.exception("unhandled error", path=request.url.path, method=request.method)
        return respond(request, problem_response("internal-error"))

    app.add_exception_handler(errors.TocsinError, on_tocsin_error)
    app.add_exception_handler(RequestValidationError, on_validation_error)
    app.add_exception_handler(StarletteHTTPException, on_http_error)
    app.add_exception_handler(sqlalchemy.exc.OperationalError, on_database_down)
    app.add_exception_handler(sqlalchemy.exc.InterfaceError, on_database_down)
    # The pool's wait for a connection ran out (``db_wait_seconds``).
    app.add_exception_handler(sqlalchemy.exc.TimeoutError, on_database_down)
    app.add_exception_handler(ConnectionRefusedError, on_database_down)
    app.add_exception_handler(sqlalchemy.exc.DataError, on_bad_data)
    # Intake's hot path runs on raw psycopg connections (db/session.py): the same failures
    # arrive as psycopg's own exceptions there.
    app.add_exception_handler(psycopg.OperationalError, on_database_down)
    app.add_exception_handler(psycopg_pool.PoolTimeout, on_database_down)
    app.add_exception_handler(psycopg.errors.DataError, on_bad_data)
    app.add_exception_handler(Exception, on_unexpected)
