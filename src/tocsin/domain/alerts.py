"""The common alert model: what every inbound format is mapped to.

An ``InboundAlert`` is one source's statement about one alert: trigger it, acknowledge it or
resolve it. It is not an incident: the pipeline scopes ``dedup_key`` to the integration the
body came through, folds alerts into incidents and decides what to page.

Invariants kept here, whatever the format:

* ``dedup_key`` is non-empty and at most ``DEDUP_KEY_MAX`` characters; it is the source's
  own identity for the alert (Alertmanager fingerprint, Opsgenie alias, …), never the title.
  ``dedup_key_generated`` says tocsin made it up (a PagerDuty trigger without a key gets a
  random one, which the route must return; the generic format falls back to a content
  fingerprint).
* ``title`` is one trimmed line of at most ``TITLE_MAX`` characters, non-empty on a trigger
  (acknowledge and resolve events often carry no text at all).
* ``occurred_at`` is an aware UTC instant, or ``None`` when the source gave no usable time.
* ``labels`` are flat strings (routing and grouping rules match on them); ``details`` keep
  everything else, JSON-shaped.

Severities, with the table each format maps into (see ``severities.py``):

    critical  wake someone now          error  a real problem, page
    warning   degraded, may not page     info   for the record
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from types import MappingProxyType
from typing import Any

TITLE_MAX = 1024
# The longest identity any supported source allows (an Opsgenie alias); PagerDuty allows 255.
DEDUP_KEY_MAX = 512


class AlertAction(StrEnum):
    TRIGGER = "trigger"
    ACKNOWLEDGE = "acknowledge"
    RESOLVE = "resolve"


class Severity(StrEnum):
    CRITICAL = "critical"
    ERROR = "error"
    WARNING = "warning"
    INFO = "info"


@dataclass(frozen=True)
class Link:
    href: str
    text: str = ""

    def as_json(self) -> dict[str, str]:
        return {"href": self.href, "text": self.text}


def one_line(text: str, limit: int = TITLE_MAX) -> str:
    """``text`` with runs of whitespace (newlines from templates) collapsed, cut to ``limit``."""
    collapsed = " ".join(text.split())
    if len(collapsed) <= limit:
        return collapsed
    return collapsed[: limit - 1] + "…"


def _utc(instant: datetime | None) -> datetime | None:
    if instant is None:
        return None
    if instant.tzinfo is None:
        raise ValueError("occurred_at must be timezone-aware")
    return instant.astimezone(UTC)


@dataclass(frozen=True)
class InboundAlert:
    action: AlertAction
    dedup_key: str
    title: str
    severity: Severity
    dedup_key_generated: bool = False
    description: str = ""
    source: str = ""
    occurred_at: datetime | None = None
    links: tuple[Link, ...] = ()
    labels: Mapping[str, str] = field(default_factory=dict)
    details: Mapping[str, Any] = field(default_factory=dict)
    raw_index: int = 0

    def __post_init__(self) -> None:
        # A format that breaks these has a bug: they are checked here once, not per format.
        if not self.dedup_key or len(self.dedup_key) > DEDUP_KEY_MAX:
            raise ValueError(f"dedup_key must have 1 to {DEDUP_KEY_MAX} characters")
        title = one_line(self.title)
        if self.action is AlertAction.TRIGGER and not title:
            raise ValueError("a trigger needs a title")
        object.__setattr__(self, "title", title)
        object.__setattr__(self, "source", self.source.strip())
        object.__setattr__(self, "occurred_at", _utc(self.occurred_at))
        object.__setattr__(self, "links", tuple(self.links))
        labels = {str(key): str(value) for key, value in self.labels.items()}
        object.__setattr__(self, "labels", MappingProxyType(labels))
        object.__setattr__(self, "details", MappingProxyType(dict(self.details)))

    def as_json(self) -> dict[str, Any]:
        """A JSON-ready dict with sorted labels: stored by the pipeline, compared by goldens."""
        return {
            "action": self.action.value,
            "dedup_key": self.dedup_key,
            "dedup_key_generated": self.dedup_key_generated,
            "title": self.title,
            "description": self.description,
            "severity": self.severity.value,
            "source": self.source,
            "occurred_at": self.occurred_at.isoformat() if self.occurred_at else None,
            "links": [link.as_json() for link in self.links],
            "labels": dict(sorted(self.labels.items())),
            "details": dict(self.details),
            "raw_index": self.raw_index,
        }


@dataclass(frozen=True)
class ChangeEvent:
    """A PagerDuty change event (a deploy, a config push): context on a timeline, never a page.

    ``timestamp`` is the source's time or, as PagerDuty does, the time tocsin received it.
    """

    summary: str
    timestamp: datetime
    source: str = ""
    links: tuple[Link, ...] = ()
    custom_details: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "summary", one_line(self.summary))
        object.__setattr__(self, "timestamp", _utc(self.timestamp))
        object.__setattr__(self, "links", tuple(self.links))
        object.__setattr__(self, "custom_details", MappingProxyType(dict(self.custom_details)))

    def as_json(self) -> dict[str, Any]:
        return {
            "summary": self.summary,
            "timestamp": self.timestamp.isoformat(),
            "source": self.source,
            "links": [link.as_json() for link in self.links],
            "custom_details": dict(self.custom_details),
        }
