"""Datadog Webhooks integration, with tocsin's recommended payload template.

Source: Datadog's Webhooks integration (monitors notify ``@webhook-tocsin``);
protocols.md §1.5. Datadog sends whatever JSON the webhook's payload template renders,
so ``docs/integrations/datadog.md`` ships the template this module reads; the fields of
Datadog's *default* template (``title``, ``body``, ``date``, ``id``) are understood too.

Identity, the first one present:

    alert_cycle_key   $ALERT_CYCLE_KEY: one trigger-to-recovery cycle (best)
    aggreg_key        $AGGREG_KEY: the monitor and group, stable across cycles
    alert_id + alert_scope   $ALERT_ID and $ALERT_SCOPE
    a content fingerprint of the title without its ``[Triggered on {scope}]`` prefix,
    the hostname and that scope: with the default template a recovery still finds its
    trigger, and the alerts of one multi-alert monitor stay apart

A key longer than an identity may be (a scope listing many tags) is replaced by its
SHA-256, which is as stable as the key itself.

Resolves: ``alert_transition`` ``Recovered`` (also ``Warn Recovered`` or any transition
naming a recovery); without a transition, ``alert_status``/``alert_type`` ``ok`` or
``success``; without either, an ``[Recovered]`` title prefix. Datadog has no
acknowledgement. The original ignored recoveries altogether (defect G18).

Quirks handled (the original's defects G18): ``$TAGS`` is one comma-separated *string*,
not an array (an array is accepted too); ``$DATE`` and ``$LAST_UPDATED`` are epoch
milliseconds but arrive quoted, and seconds are detected as well (``timestamps``);
template variables Datadog leaves unset render as empty strings, which count as absent.
Datadog cannot sign requests: authenticate with a custom header or the URL's key.

Severity: ``alert_priority`` (or a ``[P2]`` title mark) P1 critical, P2 error, P3
warning, P4/P5 info; without a priority, the transition or type: ``Warn``/``warning``/
``No Data`` warning, ``error``/``Triggered`` error, ``info``/``success`` info; else error.

Mapping: alert_title (or event_title, title, minus ``[Triggered]``-style prefixes) →
title; event_msg (or body) → description; hostname → source; date → occurred_at;
link → "Datadog" link, snapshot → "Snapshot" link; tags → labels (``key:value`` split,
plus ``tags``), with ``monitor_id`` and ``priority`` when known; the rest → details.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from tocsin.domain.alerts import TITLE_MAX, AlertAction, InboundAlert, Link, Severity, one_line
from tocsin.ingest import labels as label_rules
from tocsin.ingest import timestamps
from tocsin.ingest.errors import MalformedPayload
from tocsin.ingest.fingerprints import bounded_key, content_fingerprint
from tocsin.ingest.formats.base import WireModel, as_text, first_text, validate
from tocsin.ingest.json_body import load_json

PRIORITIES: Mapping[str, Severity] = {
    "P1": Severity.CRITICAL,
    "P2": Severity.ERROR,
    "P3": Severity.WARNING,
    "P4": Severity.INFO,
    "P5": Severity.INFO,
}
_SEVERITY_WORDS: Mapping[str, Severity] = {
    "warn": Severity.WARNING,
    "warning": Severity.WARNING,
    "no data": Severity.WARNING,
    "error": Severity.ERROR,
    "triggered": Severity.ERROR,
    "info": Severity.INFO,
    "success": Severity.INFO,
}
_RECOVERY_WORDS = frozenset({"ok", "success", "recovered"})
# "[P1] [Triggered on {host:web-1}] CPU high": the bracketed priority and transition Datadog
# puts before a monitor's name. Only these are stripped: "[prod] CPU high" keeps its "[prod]".
_MARK = (
    r"\[(?:P[1-5]|Triggered|Re-?Triggered|Recovered|Warn|Re-?Warn|No Data|Re-?No Data|Renotify)"
    r"\b[^\]]*\]"
)
_PREFIX = re.compile(rf"^\s*(?:{_MARK}\s*)+", re.IGNORECASE)


class DatadogWebhook(WireModel):
    """Every field is optional and loosely typed: a template decides what is sent."""

    alert_cycle_key: Any = None
    aggreg_key: Any = None
    alert_id: Any = None
    alert_scope: Any = None
    alert_transition: Any = None
    alert_status: Any = None
    alert_type: Any = None
    alert_priority: Any = None
    alert_title: Any = None
    alert_query: Any = None
    alert_metric: Any = None
    event_title: Any = None
    event_msg: Any = None
    event_type: Any = None
    title: Any = None
    body: Any = None
    date: Any = None
    last_updated: Any = None
    hostname: Any = None
    link: Any = None
    snapshot: Any = None
    tags: Any = None
    id: Any = None
    org: Any = None


@dataclass(frozen=True)
class _Prefix:
    """What a title's bracketed prefix says.

    ``[P1] [Triggered on {host:web-3}]`` gives the words ``p1`` and ``triggered`` and the
    scope ``host:web-3``: the scope tells apart the alerts of one multi-alert monitor.
    """

    words: tuple[str, ...]
    scope: str

    @classmethod
    def of(cls, title: str) -> _Prefix:
        match = _PREFIX.match(title)
        marks = re.findall(r"\[([^\]]*)\]", match.group(0)) if match else []
        words, scopes = [], []
        for mark in marks:
            word, _, scope = mark.partition(" on ")
            words.append(word.strip().lower())
            scopes.append(scope.strip().strip("{}"))
        return cls(tuple(words), next((scope for scope in scopes if scope), ""))

    def mentions(self, word: str) -> bool:
        return any(part.startswith(word) for part in self.words)


def _tags(value: Any) -> list[str]:
    if isinstance(value, list):
        return [as_text(tag) for tag in value if as_text(tag)]
    return label_rules.split_tags(as_text(value))


def _is_recovery(hook: DatadogWebhook, prefix: _Prefix) -> bool:
    transition = as_text(hook.alert_transition).lower()
    if transition:
        return "recover" in transition
    # $ALERT_STATUS is often a sentence ("… was > 0.5 on average"): only its one-word form
    # (a relay's "ok") counts, next to $ALERT_TYPE's "success".
    statuses = [as_text(value).lower() for value in (hook.alert_status, hook.alert_type)]
    if any(statuses):
        return any(status in _RECOVERY_WORDS for status in statuses)
    return prefix.mentions("recovered")


def _severity(hook: DatadogWebhook, prefix: _Prefix) -> Severity:
    """Priority first (the field, else a ``[P2]`` title mark), then the transition or type."""
    marked = [word.upper() for word in prefix.words if word.upper() in PRIORITIES]
    priority = as_text(hook.alert_priority).upper() or next(iter(marked), "")
    if priority in PRIORITIES:
        return PRIORITIES[priority]
    words = (as_text(hook.alert_transition), as_text(hook.alert_type), *prefix.words)
    for word in words:
        # "Re-Warn" and "Warn Recovered" speak of the same level as "Warn".
        stem = word.lower().removeprefix("re-").removesuffix(" recovered")
        if stem in _SEVERITY_WORDS:
            return _SEVERITY_WORDS[stem]
    return Severity.ERROR


def _identity(hook: DatadogWebhook, title: str, prefix: _Prefix) -> tuple[str, bool]:
    """(dedup key, made up by tocsin?) from the first identity the template provides."""
    for candidate in (hook.alert_cycle_key, hook.aggreg_key):
        if as_text(candidate):
            return bounded_key(as_text(candidate)), False
    if as_text(hook.alert_id):
        scope = as_text(hook.alert_scope)
        # A scope lists every tag of the group, so it can outgrow any key limit.
        key = f"{as_text(hook.alert_id)}:{scope}" if scope else as_text(hook.alert_id)
        return bounded_key(key), False
    labels = {"scope": prefix.scope} if prefix.scope else {}
    return content_fingerprint(title=title, source=as_text(hook.hostname), labels=labels), True


class Datadog:
    name = "datadog"

    def parse(self, body: bytes, headers: Mapping[str, str]) -> DatadogWebhook:
        hook = validate(DatadogWebhook, load_json(body))
        if not first_text(hook.alert_title, hook.event_title, hook.title, hook.alert_id):
            # Nothing to show and nothing to identify: not a monitor notification.
            raise MalformedPayload(
                "alert_title", "alert_title: send alert_title, event_title, title or alert_id"
            )
        return hook

    def to_alerts(self, payload: DatadogWebhook, *, received_at: datetime) -> list[InboundAlert]:
        hook = payload
        raw_title = first_text(hook.alert_title, hook.event_title, hook.title)
        prefix = _Prefix.of(first_text(hook.event_title, hook.title, raw_title))
        title = (
            one_line(_PREFIX.sub("", raw_title), TITLE_MAX)
            or f"Datadog monitor {as_text(hook.alert_id)}"
        )
        labels = label_rules.from_tags(_tags(hook.tags))
        if as_text(hook.alert_id):
            labels["monitor_id"] = as_text(hook.alert_id)
        if as_text(hook.alert_priority):
            labels["priority"] = as_text(hook.alert_priority)
        dedup_key, generated = _identity(hook, title, prefix)
        links = [Link(as_text(hook.link), "Datadog")] if as_text(hook.link) else []
        if as_text(hook.snapshot):
            links.append(Link(as_text(hook.snapshot), "Snapshot"))
        known = {
            "alert_title",
            "event_title",
            "title",
            "event_msg",
            "body",
            "tags",
            "link",
            "snapshot",
        }
        details = {
            key: value
            for key, value in payload.model_dump().items()
            if key not in known and value not in (None, "")
        }
        return [
            InboundAlert(
                action=AlertAction.RESOLVE if _is_recovery(hook, prefix) else AlertAction.TRIGGER,
                dedup_key=dedup_key,
                dedup_key_generated=generated,
                title=title,
                description=first_text(hook.event_msg, hook.body),
                severity=_severity(hook, prefix),
                source=as_text(hook.hostname),
                occurred_at=timestamps.parse_instant(hook.date),
                links=tuple(links),
                labels=labels,
                details=details,
            )
        ]
