"""PagerDuty Events API v2: alert events (``/v2/enqueue``) and change events.

Source: PagerDuty Events API v2 (PD-CEF payload); protocols.md §1.1. Tools that can page
PagerDuty (Alertmanager ``pagerduty_configs``, Grafana, Datadog, New Relic, scripts using
PagerDuty's libraries) can point their URL at tocsin unchanged.

Identity: ``dedup_key``. The ``routing_key`` is *not* part of it: it names the integration,
and the pipeline scopes every key to its integration, which is PagerDuty's rule that an
acknowledge or resolve only applies through the routing key that triggered. A trigger
without ``dedup_key`` gets a new random key (``dedup_key_generated``): the route must
return it in the 202 body, as PagerDuty does, or the sender can never resolve the alert.

Actions: ``event_action`` is ``trigger``, ``acknowledge`` or ``resolve``, one event per body.

Validation mirrors PagerDuty's: ``routing_key`` and ``event_action`` are required;
``payload`` is required on a trigger with ``summary`` (≤ 1024 characters), ``source`` and
``severity`` (``critical``/``error``/``warning``/``info``, nothing else); ``dedup_key`` is at
most 255 characters and required to acknowledge or resolve; each link needs ``href`` and
each image ``src``. Every problem is reported at once, worded in PagerDuty's style
(``Length of 'routing_key' is incorrect (should be 32 characters)`` is PagerDuty's own
wording; the other messages follow its pattern). ``invalid_event_body`` builds PagerDuty's
400 body from the error. The length of ``routing_key`` is left to the integration lookup:
tocsin's keys are its own, and an unknown key is answered with ``INVALID_ROUTING_KEY``.

Quirks: ``payload`` is ignored on acknowledge and resolve (PagerDuty ignores it);
``payload.timestamp`` is optional and an unreadable one is dropped rather than refused;
``custom_details`` may be any JSON value (a string becomes the description).

Mapping: summary → title; severity is PagerDuty's own four levels, unchanged; source →
source; component, group, class and flattened ``custom_details.*`` → labels; links and
``client_url`` → links; custom_details, images and client → details.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

import pydantic
from pydantic_core import ErrorDetails

from tocsin.domain.alerts import AlertAction, ChangeEvent, InboundAlert, Link, Severity
from tocsin.ingest import labels as label_rules
from tocsin.ingest import timestamps
from tocsin.ingest.errors import FieldError
from tocsin.ingest.formats.base import (
    KeyFactory,
    WireModel,
    malformed,
    new_uuid_key,
    validate,
)
from tocsin.ingest.json_body import load_json

SUMMARY_MAX = 1024
DEDUP_KEY_MAX = 255
MAX_BODY_BYTES = 512 * 1024
INVALID_ROUTING_KEY = "Invalid routing key"


class PdLink(WireModel):
    href: str
    text: str | None = None


class PdImage(WireModel):
    src: str
    href: str | None = None
    alt: str | None = None


class PdPayload(WireModel):
    summary: str
    source: str
    severity: Literal["critical", "error", "warning", "info"]
    timestamp: str | None = None
    component: str | None = None
    group: str | None = None
    class_: str | None = pydantic.Field(default=None, alias="class")
    custom_details: Any = None


class PdEvent(WireModel):
    routing_key: str
    event_action: Literal["trigger", "acknowledge", "resolve"]
    dedup_key: str | None = None
    payload: dict[str, Any] | None = None
    client: str | None = None
    client_url: str | None = None
    links: list[PdLink] = pydantic.Field(default_factory=list)
    images: list[PdImage] = pydantic.Field(default_factory=list)


class PdChangePayload(WireModel):
    summary: str
    source: str | None = None
    timestamp: str | None = None
    custom_details: Any = None


class PdChangeEvent(WireModel):
    routing_key: str
    payload: PdChangePayload
    links: list[PdLink] = pydantic.Field(default_factory=list)


@dataclass(frozen=True)
class ValidatedEvent:
    """A parsed alert event: the wire event and, for a trigger, its validated payload.

    The route reads ``event.routing_key`` to find the integration.
    """

    event: PdEvent
    payload: PdPayload | None = None


def _describe(path: str, error: ErrorDetails) -> str:
    """Pydantic's errors in PagerDuty's words."""
    if error["type"] == "missing":
        return f"'{path}' is missing or blank"
    if error["type"] == "literal_error":
        expected = error.get("ctx", {}).get("expected", "")
        return f"'{path}' is invalid (should be one of {expected})"
    return f"'{path}' is invalid ({error['msg'][0].lower()}{error['msg'][1:]})"


def _blank(path: str) -> FieldError:
    return FieldError(path, f"'{path}' is missing or blank")


def _too_long(path: str, limit: int) -> FieldError:
    return FieldError(
        path, f"Length of '{path}' is incorrect (should be at most {limit} characters)"
    )


def _text_rules(values: Iterable[tuple[str, str | None, int | None]]) -> list[FieldError]:
    """Required-and-not-blank and maximum-length checks for (path, value, limit) triples."""
    errors = []
    for path, value, limit in values:
        if value is None or not value.strip():
            errors.append(_blank(path))
        elif limit is not None and len(value) > limit:
            errors.append(_too_long(path, limit))
    return errors


def invalid_event_body(messages: Iterable[str]) -> dict[str, Any]:
    """PagerDuty's 400 body: the route sends it instead of problem+json on ``/v2/enqueue``."""
    return {
        "status": "invalid event",
        "message": "Event object is invalid",
        "errors": list(messages),
    }


def accepted_body(dedup_key: str | None) -> dict[str, Any]:
    """PagerDuty's 202 body; ``dedup_key`` is the key tocsin used, generated or not."""
    body: dict[str, Any] = {"status": "success", "message": "Event processed"}
    if dedup_key is not None:
        body["dedup_key"] = dedup_key
    return body


def _links(event_links: list[PdLink]) -> list[Link]:
    return [Link(link.href, (link.text or "").strip()) for link in event_links]


def _details_of(custom_details: Any) -> tuple[str, dict[str, Any], dict[str, str]]:
    """(description, details, labels) from ``custom_details``, whatever JSON it is."""
    if isinstance(custom_details, str):
        return custom_details, {"custom_details": custom_details}, {}
    if isinstance(custom_details, dict):
        flat = label_rules.flatten(custom_details, prefix="custom_details.")
        return "", {"custom_details": custom_details}, flat
    if custom_details is None:
        return "", {}, {}
    return "", {"custom_details": custom_details}, {}


class PagerDutyEventsV2:
    name = "pagerduty_events_v2"

    def __init__(self, *, new_key: KeyFactory = new_uuid_key) -> None:
        self._new_key = new_key

    def parse(self, body: bytes, headers: Mapping[str, str]) -> ValidatedEvent:
        event = validate(PdEvent, load_json(body), describe=_describe)
        errors = _text_rules([("routing_key", event.routing_key, None)])
        if event.dedup_key is not None and len(event.dedup_key) > DEDUP_KEY_MAX:
            errors.append(_too_long("dedup_key", DEDUP_KEY_MAX))
        if event.event_action != "trigger" and not (event.dedup_key or "").strip():
            errors.append(_blank("dedup_key"))
        errors += _link_rules(event)
        payload = None
        if event.event_action == "trigger":
            if event.payload is None:
                errors.append(_blank("payload"))
            else:
                payload = validate(PdPayload, event.payload, prefix="payload", describe=_describe)
                errors += _text_rules(
                    [
                        ("payload.summary", payload.summary, SUMMARY_MAX),
                        ("payload.source", payload.source, None),
                    ]
                )
        if errors:
            raise malformed(errors)
        return ValidatedEvent(event=event, payload=payload)

    def to_alerts(self, payload: ValidatedEvent, *, received_at: datetime) -> list[InboundAlert]:
        event = payload.event
        given_key = (event.dedup_key or "").strip()
        dedup_key = given_key or self._new_key()
        links = _links(event.links)
        details: dict[str, Any] = {}
        if event.client_url:
            links.append(Link(event.client_url, (event.client or "").strip()))
        if event.client:
            details["client"] = event.client
        if event.images:
            details["images"] = [image.model_dump(exclude_none=True) for image in event.images]
        if payload.payload is None:
            return [
                InboundAlert(
                    action=AlertAction(event.event_action),
                    dedup_key=dedup_key,
                    dedup_key_generated=not given_key,
                    title="",
                    severity=Severity.INFO,
                    links=tuple(links),
                    details=details,
                )
            ]
        cef = payload.payload
        description, custom, flat = _details_of(cef.custom_details)
        named = {"component": cef.component, "group": cef.group, "class": cef.class_}
        labels = {name: value for name, value in named.items() if value}
        details.update(custom)
        return [
            InboundAlert(
                action=AlertAction.TRIGGER,
                dedup_key=dedup_key,
                dedup_key_generated=not given_key,
                title=cef.summary,
                description=description,
                severity=Severity(cef.severity),
                source=cef.source,
                occurred_at=timestamps.parse_instant(cef.timestamp),
                links=tuple(links),
                labels={**flat, **labels},
                details=details,
            )
        ]

    def parse_change(self, body: bytes, headers: Mapping[str, str]) -> PdChangeEvent:
        """A change event for ``/v2/change/enqueue``: ``routing_key`` and a summary needed."""
        change = validate(PdChangeEvent, load_json(body), describe=_describe)
        errors = _text_rules(
            [
                ("routing_key", change.routing_key, None),
                ("payload.summary", change.payload.summary, SUMMARY_MAX),
            ]
        )
        errors += [
            _blank(f"links[{index}].href")
            for index, link in enumerate(change.links)
            if not link.href.strip()
        ]
        if errors:
            raise malformed(errors)
        return change

    def to_change_event(self, change: PdChangeEvent, *, received_at: datetime) -> ChangeEvent:
        """The change event; without a readable timestamp it happened when it was received."""
        custom = change.payload.custom_details
        return ChangeEvent(
            summary=change.payload.summary,
            timestamp=timestamps.parse_instant(change.payload.timestamp) or received_at,
            source=(change.payload.source or "").strip(),
            links=tuple(_links(change.links)),
            custom_details=_as_object(custom),
        )


def _as_object(value: Any) -> dict[str, Any]:
    if isinstance(value, dict):
        return value
    return {} if value is None else {"value": value}


def _link_rules(event: PdEvent) -> list[FieldError]:
    links = [(f"links[{index}].href", link.href) for index, link in enumerate(event.links)]
    images = [(f"images[{index}].src", image.src) for index, image in enumerate(event.images)]
    return [_blank(path) for path, value in links + images if not value.strip()]
