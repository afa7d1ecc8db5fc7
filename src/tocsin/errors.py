"""Errors that tocsin's own code raises, and what each means.

Code below the edges raises these, never ``HTTPException``; ``http/problems.py`` turns each
into an RFC 9457 problem+json response. ``code`` is the stable problem slug clients can
match on (``/problems/<code>`` documents it).

    TocsinError
    ├── InvalidInput          422  a field's value breaks a rule (the field is named)
    ├── NotFound              404  the resource does not exist or is not visible
    ├── Conflict              409  the request clashes with the current state
    │   ├── AlreadyExists     409  a unique value is taken (the field is named)
    │   └── StaleTransition   409  someone else changed the state first (says who)
    ├── MalformedPayload      400  an inbound alert body breaks its format (``field`` names where)
    ├── NotAuthenticated      401  no credentials, or credentials that are wrong or expired
    │   ├── SignatureMissing  401  a signed alert intake got no signature headers
    │   └── SignatureInvalid  401  the signature does not match the body and the secret
    │       └── SignatureExpired  401  a valid signature whose timestamp is out of tolerance
    ├── PermissionDenied      403  the actor may not do this
    │   ├── MissingScope      403  the API key lacks the scope the route needs
    │   └── CsrfFailed        403  a cookie-authenticated change lacked a valid CSRF token
    ├── PayloadTooLarge       413  the request body is over the endpoint's limit
    ├── RateLimited           429  too many attempts; retry after ``retry_after`` seconds
    └── ServiceUnavailable    503  a dependency (the database) is down; retry later

The intake errors (``MalformedPayload`` and the ``Signature*`` family) live in
``tocsin/ingest/errors.py`` beside ``UnsupportedEvent``, an outcome (202) that is no error.
"""

from __future__ import annotations

from typing import Any, ClassVar


class TocsinError(Exception):
    """Base of every error tocsin raises on purpose."""

    code: ClassVar[str] = "error"
    title: ClassVar[str] = "Error"

    def __init__(self, detail: str, **extensions: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        self.extensions = extensions


class InvalidInput(TocsinError):
    """Raised when a value is well-formed but breaks a rule, e.g. an unknown time zone."""

    code = "invalid-input"
    title = "Invalid input"

    def __init__(self, field: str, detail: str) -> None:
        super().__init__(detail, field=field)
        self.field = field


class NotFound(TocsinError):
    """Raised when a resource named in the request does not exist."""

    code = "not-found"
    title = "Not found"

    def __init__(self, resource: str, identifier: object) -> None:
        super().__init__(f"{resource} {identifier} does not exist", resource=resource)
        self.resource = resource


class Conflict(TocsinError):
    """Raised when the request clashes with the current state of a resource."""

    code = "conflict"
    title = "Conflict"


class AlreadyExists(Conflict):
    """Raised when a value that must be unique is already taken."""

    code = "already-exists"
    title = "Already exists"

    def __init__(self, resource: str, field: str, value: object) -> None:
        super().__init__(
            f"{with_article(resource)} with {field} {value!s} already exists", field=field
        )
        self.field = field


class StaleTransition(Conflict):
    """Raised when a compare-and-set transition lost: the state had already moved on."""

    code = "stale-transition"
    title = "State already changed"


class NotAuthenticated(TocsinError):
    """Raised when a request carries no credentials, or wrong, expired or revoked ones."""

    code = "not-authenticated"
    title = "Not authenticated"
    # The WWW-Authenticate challenge of the 401: the scheme the credentials go in.
    challenge: ClassVar[str] = 'Bearer realm="tocsin"'


class PermissionDenied(TocsinError):
    """Raised when the authenticated actor may not perform the action."""

    code = "forbidden"
    title = "Forbidden"


class MissingScope(PermissionDenied):
    """Raised when an API key lacks the scope a route requires."""

    code = "missing-scope"
    title = "Missing scope"

    def __init__(self, scope: str) -> None:
        super().__init__(f"this API key lacks the scope {scope}", scope=scope)


class PayloadTooLarge(TocsinError):
    """Raised while reading a request body that grows past the endpoint's limit."""

    code = "payload-too-large"
    title = "Payload too large"

    def __init__(self, limit: int) -> None:
        super().__init__(f"the body is larger than {limit} bytes", limit=limit)


class CsrfFailed(PermissionDenied):
    """Raised when a browser request that changes state has no valid CSRF token."""

    code = "csrf-failed"
    title = "CSRF check failed"


class RateLimited(TocsinError):
    """Raised when too many attempts were made; ``retry_after`` is in whole seconds."""

    code = "rate-limited"
    title = "Too many requests"

    def __init__(self, detail: str, retry_after: int) -> None:
        super().__init__(detail, retry_after=retry_after)
        self.retry_after = retry_after


class ServiceUnavailable(TocsinError):
    """Raised when the database cannot be reached; the client should retry."""

    code = "service-unavailable"
    title = "Service unavailable"

    def __init__(self, detail: str, retry_after: int = 5) -> None:
        super().__init__(detail, retry_after=retry_after)
        self.retry_after = retry_after


def with_article(noun: str) -> str:
    """``an escalation policy``, ``a team``: the indefinite article for a noun in a message."""
    word = noun.lower()
    vowel = word[:1] in ("a", "e", "i", "o") or (word[:1] == "u" and not word.startswith("us"))
    return f"{'an' if vowel else 'a'} {noun}"
