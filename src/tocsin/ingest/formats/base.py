"""The one interface every inbound format implements, and the parsing it shares.

A format turns the raw bytes one source sends into ``InboundAlert``s in two steps:

1. ``parse(body, headers)`` validates the body against the source's wire format and
   returns a typed payload. A body that breaks the format raises ``MalformedPayload``
   naming the field as a path (``alerts[0].fingerprint``): the route answers 400, which
   senders do not retry. A known event tocsin ignores raises ``UnsupportedEvent``: 202.
2. ``to_alerts(payload, *, received_at)`` maps the payload, purely: no clock, no I/O. The
   only randomness (a key for a PagerDuty trigger without one) comes from the format's
   injected ``new_key``, so tests pass a deterministic factory.

Formats whose source can sign (Grafana's HMAC, Standard Webhooks for the generic format)
also implement ``SignedFormat.verify``, which the pipeline calls on the raw body *before*
``parse``. Its result is the delivery's replay id, when the scheme has one.

Every format reads its body with ``ingest.json_body.load_json``: nesting and numbers
bounded, text storable, the field named when it refuses.

Wire models are pydantic models with the vendor's field names that keep unknown fields
(``extra="allow"``): a new field in a sender's release is never fatal.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any, Protocol, TypeVar, runtime_checkable

import pydantic
from pydantic_core import ErrorDetails

from tocsin.domain.alerts import InboundAlert
from tocsin.ingest.errors import FieldError, MalformedPayload

P = TypeVar("P")
M = TypeVar("M", bound=pydantic.BaseModel)

KeyFactory = Callable[[], str]


def new_uuid_key() -> str:
    """A random dedup key, as PagerDuty makes for a trigger that has none: a UUID4 in hex."""
    return uuid.uuid4().hex


@runtime_checkable
class Format(Protocol[P]):
    """One inbound source: parse its bytes, map them to alerts."""

    name: str

    def parse(self, body: bytes, headers: Mapping[str, str]) -> P:
        """The validated payload; raises ``MalformedPayload`` or ``UnsupportedEvent``."""
        ...

    def to_alerts(self, payload: P, *, received_at: datetime) -> list[InboundAlert]:
        """The alerts the payload states, in body order (``raw_index``)."""
        ...


@runtime_checkable
class SignedFormat(Format[P], Protocol[P]):
    """A format whose source signs its requests."""

    def verify(
        self, headers: Mapping[str, str], body: bytes, secret: str, now: datetime
    ) -> str | None:
        """Check the signature over the raw body; return the delivery's replay id, if any.

        Raises ``SignatureMissing``, ``SignatureInvalid`` or ``SignatureExpired``.
        """
        ...


class WireModel(pydantic.BaseModel):
    """Base of every vendor model: unknown fields are kept, never fatal.

    Numbers are accepted where text is expected: templates render ``"id": 42`` as easily
    as ``"id": "42"``, and refusing a page over quotes helps nobody.
    """

    model_config = pydantic.ConfigDict(
        extra="allow", populate_by_name=True, coerce_numbers_to_str=True
    )


def field_path(location: Sequence[str | int], prefix: str = "") -> str:
    """``("alerts", 0, "fingerprint")`` → ``alerts[0].fingerprint`` (after ``prefix``)."""
    text = prefix
    for part in location:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else str(part)
    return text or "body"


Describe = Callable[[str, ErrorDetails], str]


def _describe(path: str, error: ErrorDetails) -> str:
    return f"{path}: {error['msg']}"


def validate(
    model: type[M],
    data: Any,
    *,
    prefix: str = "",
    describe: Describe = _describe,
) -> M:
    """``data`` as ``model``; every pydantic error becomes one ``FieldError`` by path.

    ``describe`` words the message (PagerDuty words its own errors in its own style).
    """
    if not isinstance(data, dict):
        path = prefix or "body"
        raise MalformedPayload(path, f"{path}: expected a JSON object")
    try:
        return model.model_validate(data)
    except pydantic.ValidationError as error:
        raise malformed(
            [
                FieldError(
                    field_path(item["loc"], prefix), describe(field_path(item["loc"], prefix), item)
                )
                for item in error.errors(include_url=False)
            ]
        ) from error


def malformed(errors: Sequence[FieldError]) -> MalformedPayload:
    """One ``MalformedPayload`` reporting ``errors``, the first one as its field and detail."""
    first = errors[0]
    return MalformedPayload(first.field, first.message, errors=errors)


def as_text(value: object) -> str:
    """A value from a loosely typed template field as text (numbers appear unquoted)."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value.strip()
    return json.dumps(value)


def first_text(*values: object) -> str:
    """The first value that is non-empty text."""
    for value in values:
        candidate = as_text(value)
        if candidate:
            return candidate
    return ""
