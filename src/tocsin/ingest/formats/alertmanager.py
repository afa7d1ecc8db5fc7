"""Prometheus Alertmanager webhook (``webhook_configs``), message version 4.

Source: Alertmanager's webhook notifier, payload ``version: "4"``; protocols.md §1.2.

Identity: ``alerts[].fingerprint``, the hash Alertmanager computes over an alert's label
set. Each alert of a group becomes its own ``InboundAlert``, so one alert resolving does
not resolve its neighbours; ``groupKey`` goes into ``details["group_key"]`` for grouping.
The summary is never part of the identity: it is template text that changes between
notifications of one alert. A body without a fingerprint is refused (400, which
Alertmanager does not retry): without one, a resolve could never find its trigger.

Resolves: an alert whose own ``status`` is ``resolved`` (the group ``status`` says only
whether *any* alert still fires). ``send_resolved`` defaults to true in Alertmanager.

Quirks: ``truncatedAlerts`` counts alerts left out by ``max_alerts``; it is recorded in the
details of every alert of the message, since the missing ones will come again with the
next group notification. ``endsAt`` of a firing alert is a future or zero time.
An HA pair may send the same notification twice: dedup makes that harmless.

Mapping:

    title        annotations.summary, annotations.title, labels.alertname, "alert <fp>"
    description  annotations.description, annotations.message
    severity     labels.severity (or labels.priority) through ``severities.from_word``
    source       labels.instance, labels.job, labels.service
    occurred_at  startsAt
    links        generatorURL ("Source"), annotations.runbook_url ("Runbook"),
                 externalURL ("Alertmanager")
    labels       the alert's labels, unchanged
    details      annotations, status, starts_at, ends_at, receiver, group_key,
                 group_labels, truncated_alerts
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, Generic, Literal, TypeVar

import pydantic

from tocsin.domain.alerts import DEDUP_KEY_MAX, AlertAction, InboundAlert, Link
from tocsin.ingest import severities, timestamps
from tocsin.ingest.errors import FieldError, UnsupportedEvent
from tocsin.ingest.formats.base import WireModel, first_text, malformed, validate
from tocsin.ingest.json_body import load_json


class AmAlert(WireModel):
    status: Literal["firing", "resolved"]
    labels: dict[str, str] = pydantic.Field(default_factory=dict)
    annotations: dict[str, str] = pydantic.Field(default_factory=dict)
    startsAt: str | None = None
    endsAt: str | None = None
    generatorURL: str | None = None
    fingerprint: str


A = TypeVar("A", bound=AmAlert)


class AmMessage(WireModel, Generic[A]):
    """The notification; generic in its alerts so that Grafana's extend Alertmanager's."""

    version: str | None = None
    groupKey: str | None = None
    truncatedAlerts: int = 0
    status: Literal["firing", "resolved"] | None = None
    receiver: str | None = None
    groupLabels: dict[str, str] = pydantic.Field(default_factory=dict)
    commonLabels: dict[str, str] = pydantic.Field(default_factory=dict)
    commonAnnotations: dict[str, str] = pydantic.Field(default_factory=dict)
    externalURL: str | None = None
    alerts: list[A]


def check_alerts(message: AmMessage[Any]) -> None:
    """Rules pydantic cannot state: a usable fingerprint on every alert, at least one alert."""
    errors = [
        FieldError(f"alerts[{index}].fingerprint", f"alerts[{index}].fingerprint: {problem}")
        for index, alert in enumerate(message.alerts)
        for problem in [_fingerprint_problem(alert.fingerprint)]
        if problem
    ]
    if errors:
        raise malformed(errors)
    if not message.alerts:
        raise UnsupportedEvent("the notification carries no alerts")


def _fingerprint_problem(fingerprint: str) -> str | None:
    if not fingerprint.strip():
        return "must not be empty"
    if len(fingerprint) > DEDUP_KEY_MAX:
        return f"must be at most {DEDUP_KEY_MAX} characters"
    return None


def alert_of(
    message: AmMessage[Any],
    alert: AmAlert,
    index: int,
    *,
    links: list[Link],
    details: Mapping[str, Any],
) -> InboundAlert:
    """The alert both Alertmanager and Grafana send, plus their own ``links``/``details``."""
    labels, notes = alert.labels, alert.annotations
    fingerprint = alert.fingerprint.strip()
    standard_links = [Link(alert.generatorURL, "Source")] if alert.generatorURL else []
    if notes.get("runbook_url"):
        standard_links.append(Link(notes["runbook_url"], "Runbook"))
    return InboundAlert(
        action=AlertAction.RESOLVE if alert.status == "resolved" else AlertAction.TRIGGER,
        dedup_key=fingerprint,
        title=first_text(
            notes.get("summary"),
            notes.get("title"),
            labels.get("alertname"),
            f"alert {fingerprint}",
        ),
        description=first_text(notes.get("description"), notes.get("message")),
        severity=severities.from_word(labels.get("severity") or labels.get("priority")),
        source=first_text(labels.get("instance"), labels.get("job"), labels.get("service")),
        occurred_at=timestamps.parse_instant(alert.startsAt),
        links=(*standard_links, *links),
        labels=labels,
        details={
            "annotations": notes,
            "status": alert.status,
            "starts_at": alert.startsAt,
            "ends_at": alert.endsAt,
            "receiver": message.receiver,
            "group_key": message.groupKey,
            "group_labels": message.groupLabels,
            "truncated_alerts": message.truncatedAlerts,
            **details,
        },
        raw_index=index,
    )


class Alertmanager:
    name = "alertmanager"

    def parse(self, body: bytes, headers: Mapping[str, str]) -> AmMessage[AmAlert]:
        message = validate(AmMessage[AmAlert], load_json(body))
        check_alerts(message)
        return message

    def to_alerts(
        self, payload: AmMessage[AmAlert], *, received_at: datetime
    ) -> list[InboundAlert]:
        external = [Link(payload.externalURL, "Alertmanager")] if payload.externalURL else []
        return [
            alert_of(payload, alert, index, links=external, details={})
            for index, alert in enumerate(payload.alerts)
        ]
