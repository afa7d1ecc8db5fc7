"""What intake raises when a body cannot become alerts, and the one outcome that is no error.

    MalformedPayload   400  the body breaks its format; ``field`` names where, as a path
                            (``alerts[0].fingerprint``), ``errors`` lists every broken field
    IdempotencyKeyReused 422  a key already applied came with another request (``field``
                            names its header): refused, never answered as a replay
    SignatureMissing   401  a signed intake got a request without its signature headers
    SignatureInvalid   401  the signature does not match the body and the secret
    └── SignatureExpired 401  the signature is right but its timestamp is out of tolerance
    UnsupportedEvent   —    a well-formed event tocsin ignores on purpose (a New Relic issue
                            that is only CREATED): the route answers 202 with ``reason``, so
                            the sender neither retries nor reports a failure

The first five belong to the ``tocsin.errors`` tree and become problem+json responses.
``UnsupportedEvent`` is not an error and is not a ``TocsinError``: a route that forgot to
catch it would answer 500 and make the sender retry, which is loud, not silent.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from tocsin.errors import InvalidInput, NotAuthenticated, TocsinError


@dataclass(frozen=True)
class FieldError:
    """One broken field: ``field`` is a path into the body, ``message`` says what is wrong."""

    field: str
    message: str


class MalformedPayload(TocsinError):
    """Raised by a format's ``parse`` when the body is not JSON or breaks the format's rules.

    ``detail`` describes the first broken field; ``errors`` lists all of them when the format
    checks several at once (PagerDuty reports every problem, not just the first).
    """

    code = "malformed-payload"
    title = "Malformed payload"

    def __init__(self, field: str, detail: str, *, errors: Sequence[FieldError] = ()) -> None:
        listed = list(errors) or [FieldError(field, detail)]
        super().__init__(
            detail,
            field=field,
            errors=[{"field": error.field, "message": error.message} for error in listed],
        )
        self.field = field
        self.errors = tuple(listed)


class IdempotencyKeyReused(InvalidInput):
    """Raised when an idempotency key that was applied arrives with a different request.

    A retry repeats its request exactly and gets the first answer; a different request
    under the same key is another event, and answering it with the first one's result
    would drop it without a word. ``field`` names the header that carried the key.
    """

    code = "idempotency-key-reused"
    title = "Idempotency key reused"

    def __init__(self, field: str, key: str) -> None:
        super().__init__(
            field,
            f"{field}: {key!r} was already used for a different request; a retry must "
            "repeat its request exactly, and a new event needs a new key",
        )


class SignatureMissing(NotAuthenticated):
    """Raised when an intake that requires a signature gets a request without one."""

    code = "signature-missing"
    title = "Signature missing"


class SignatureInvalid(NotAuthenticated):
    """Raised when a signature is present but does not match the body and the secret."""

    code = "signature-invalid"
    title = "Signature invalid"


class SignatureExpired(SignatureInvalid):
    """Raised when a valid signature's timestamp is too old or too far in the future.

    A replayed request carries an old timestamp; one from the future means a skewed clock
    or a forged header. Both are refused the same way, the detail says which.
    """

    code = "signature-expired"
    title = "Signature expired"


class UnsupportedEvent(Exception):
    """Raised by ``parse`` for a known event tocsin deliberately ignores; ``reason`` says why."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason
