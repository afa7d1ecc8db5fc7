"""tocsin's own JSON alert format, for scripts and tools without a format of their own.

Source: tocsin; documented in ``docs/integrations/generic.md``. One alert per body, or a
JSON array of up to ``MAX_BATCH`` of them (``raw_index`` is the position):

    title        text, required on a trigger and whenever dedup_key is absent
    action       trigger (default) | acknowledge | resolve; also firing, resolved, ok, ack…
    severity     critical | error | warning | info, or a word of ``severities.py``;
                 default error
    dedup_key    the sender's identity for the alert, at most 255 characters
    description, source      text
    occurred_at  ISO-8601 or epoch seconds/milliseconds (``timestamp`` is read too)
    links        [{"href": …, "text": …}]
    labels       {name: scalar}; nested objects flatten with dots
    details      anything

Identity: ``dedup_key``; without one, the content fingerprint of title, source and labels
(``fingerprints.py``), so repeats of one problem share an alert and a resolve with the
same title, source and labels finds its trigger.

Resolves: ``action: resolve`` (or ``resolved``, ``ok``, ``closed``, ``recovered``).

Quirks, each a defect of the original avoided (G19): no ``timestamp`` is required, and an
old one is not a replay (replay protection is the signature's job: ``verify`` checks
Standard Webhooks, ``signatures.py``); unknown top-level fields are kept in ``details``
rather than dropped; ``labels`` sit at the top level, not inside a ``metadata`` object.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

import pydantic

from tocsin.domain.alerts import AlertAction, InboundAlert, Link
from tocsin.ingest import labels as label_rules
from tocsin.ingest import severities, signatures, timestamps
from tocsin.ingest.errors import FieldError, MalformedPayload
from tocsin.ingest.fingerprints import content_fingerprint
from tocsin.ingest.formats.base import WireModel, as_text, malformed, validate
from tocsin.ingest.json_body import load_json

MAX_BATCH = 100
DEDUP_KEY_MAX = 255
ACTIONS: Mapping[str, AlertAction] = {
    **dict.fromkeys(("trigger", "triggered", "firing", "open", "problem"), AlertAction.TRIGGER),
    **dict.fromkeys(("acknowledge", "acknowledged", "ack"), AlertAction.ACKNOWLEDGE),
    **dict.fromkeys(("resolve", "resolved", "ok", "closed", "recovered"), AlertAction.RESOLVE),
}


class GenericLink(WireModel):
    href: str
    text: str | None = None


class GenericAlert(WireModel):
    title: str | None = None
    action: str = "trigger"
    severity: str | None = None
    dedup_key: str | None = None
    description: str | None = None
    source: str | None = None
    occurred_at: str | int | float | None = None
    timestamp: str | int | float | None = None
    links: list[GenericLink] = pydantic.Field(default_factory=list)
    labels: dict[str, Any] = pydantic.Field(default_factory=dict)
    details: dict[str, Any] = pydantic.Field(default_factory=dict)


def _rules(alert: GenericAlert, path: str) -> list[FieldError]:
    """Rules across fields, for the alert at ``path`` (``""`` or ``[3]``)."""
    errors = []
    where = f"{path}." if path else ""
    if alert.action.strip().lower() not in ACTIONS:
        errors.append(
            FieldError(f"{where}action", f"{where}action: use trigger, acknowledge or resolve")
        )
    key = (alert.dedup_key or "").strip()
    if len(key) > DEDUP_KEY_MAX:
        message = f"{where}dedup_key: must be at most {DEDUP_KEY_MAX} characters"
        errors.append(FieldError(f"{where}dedup_key", message))
    triggers = ACTIONS.get(alert.action.strip().lower()) is AlertAction.TRIGGER
    if not (alert.title or "").strip() and (triggers or not key):
        reason = "a trigger needs a title" if triggers else "without dedup_key, title is needed"
        errors.append(FieldError(f"{where}title", f"{where}title: {reason}"))
    errors += [
        FieldError(f"{where}links[{index}].href", f"{where}links[{index}].href: must not be empty")
        for index, link in enumerate(alert.links)
        if not link.href.strip()
    ]
    return errors


class Generic:
    name = "generic"

    def parse(self, body: bytes, headers: Mapping[str, str]) -> list[GenericAlert]:
        data = load_json(body)
        batched = isinstance(data, list)
        items = data if batched else [data]
        if batched and not 0 < len(items) <= MAX_BATCH:
            raise MalformedPayload("body", f"body: send 1 to {MAX_BATCH} alerts in an array")
        alerts: list[GenericAlert] = []
        errors: list[FieldError] = []
        for index, item in enumerate(items):
            path = f"[{index}]" if batched else ""
            try:
                alert = validate(GenericAlert, item, prefix=path)
            except MalformedPayload as error:
                errors += error.errors
                continue
            errors += _rules(alert, path)
            alerts.append(alert)
        if errors:
            raise malformed(errors)
        return alerts

    def to_alerts(
        self, payload: list[GenericAlert], *, received_at: datetime
    ) -> list[InboundAlert]:
        return [_alert_of(alert, index) for index, alert in enumerate(payload)]

    def verify(
        self, headers: Mapping[str, str], body: bytes, secret: str, now: datetime
    ) -> str | None:
        """Standard Webhooks; the replay id is the ``webhook-id``."""
        return signatures.verify(headers, body, secret, now).id


def _alert_of(alert: GenericAlert, index: int) -> InboundAlert:
    title = as_text(alert.title)
    source = as_text(alert.source)
    labels = label_rules.flatten(alert.labels)
    key = (alert.dedup_key or "").strip()
    extra = dict(alert.model_extra or {})
    return InboundAlert(
        action=ACTIONS[alert.action.strip().lower()],
        dedup_key=key or content_fingerprint(title=title, source=source, labels=labels),
        dedup_key_generated=not key,
        title=title,
        description=as_text(alert.description),
        severity=severities.from_word(alert.severity),
        source=source,
        occurred_at=timestamps.parse_instant(
            alert.occurred_at if alert.occurred_at is not None else alert.timestamp
        ),
        links=tuple(Link(link.href.strip(), as_text(link.text)) for link in alert.links),
        labels=labels,
        details={**extra, **alert.details},
        raw_index=index,
    )
