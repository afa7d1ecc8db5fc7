"""A test alert, written as the sender of each kind would write it.

"Send a test alert" on an integration's page must prove the whole path a real alert takes:
so it is a body in the integration's own format, parsed by that format and applied by the
same pipeline, not an incident made directly. Every test alert of an integration carries
the same identity (``DEDUP_KEY``), so pressing the button twice while the first is open
joins the same incident, as a repeating real alert would.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

DEDUP_KEY = "tocsin-test-alert"
TITLE = "Test alert from tocsin"
DESCRIPTION = "Sent from the integration's page to check that alerts reach the on-call person."


def has_test_alert(kind: str) -> bool:
    """Whether integrations of ``kind`` take alerts (a heartbeat only pings)."""
    return kind in _BUILDERS


def body_for(kind: str, now: datetime) -> bytes | None:
    """The body a sender of ``kind`` would post; ``None`` for a kind without alerts
    (a heartbeat only pings)."""
    built = _BUILDERS.get(kind)
    return json.dumps(built(now)).encode() if built else None


def _alertmanager(now: datetime) -> dict[str, Any]:
    labels = {"alertname": "TocsinTestAlert", "severity": "critical"}
    return {
        "version": "4",
        "groupKey": '{}:{alertname="TocsinTestAlert"}',
        "truncatedAlerts": 0,
        "status": "firing",
        "receiver": "tocsin",
        "groupLabels": {"alertname": "TocsinTestAlert"},
        "commonLabels": labels,
        "commonAnnotations": {},
        "externalURL": "",
        "alerts": [
            {
                "status": "firing",
                "labels": labels,
                "annotations": {"summary": TITLE, "description": DESCRIPTION},
                "startsAt": now.isoformat(),
                "endsAt": "0001-01-01T00:00:00Z",
                "generatorURL": "",
                "fingerprint": DEDUP_KEY,
            }
        ],
    }


def _grafana(now: datetime) -> dict[str, Any]:
    return {**_alertmanager(now), "version": "1", "orgId": 1, "state": "alerting"}


def _pagerduty(now: datetime) -> dict[str, Any]:
    return {
        "routing_key": "test",
        "event_action": "trigger",
        "dedup_key": DEDUP_KEY,
        "payload": {
            "summary": TITLE,
            "source": "tocsin",
            "severity": "critical",
            "timestamp": now.isoformat(),
            "custom_details": {"about": DESCRIPTION},
        },
    }


def _opsgenie(now: datetime) -> dict[str, Any]:
    return {
        "message": TITLE,
        "alias": DEDUP_KEY,
        "description": DESCRIPTION,
        "priority": "P1",
        "source": "tocsin",
    }


def _datadog(now: datetime) -> dict[str, Any]:
    return {
        "alert_cycle_key": DEDUP_KEY,
        "alert_transition": "Triggered",
        "alert_type": "error",
        "alert_priority": "P1",
        "alert_title": TITLE,
        "event_msg": DESCRIPTION,
        "date": str(int(now.timestamp() * 1000)),
    }


def _newrelic(now: datetime) -> dict[str, Any]:
    millis = int(now.timestamp() * 1000)
    return {
        "id": DEDUP_KEY,
        "title": TITLE,
        "priority": "CRITICAL",
        "state": "ACTIVATED",
        "trigger": "STATE_CHANGE",
        "createdAt": millis,
        "updatedAt": millis,
    }


def _generic(now: datetime) -> dict[str, Any]:
    return {
        "title": TITLE,
        "severity": "critical",
        "dedup_key": DEDUP_KEY,
        "description": DESCRIPTION,
        "source": "tocsin",
        "occurred_at": now.isoformat(),
    }


_BUILDERS = {
    "alertmanager": _alertmanager,
    "grafana": _grafana,
    "pagerduty_events_v2": _pagerduty,
    "opsgenie": _opsgenie,
    "datadog": _datadog,
    "newrelic": _newrelic,
    "generic": _generic,
}
