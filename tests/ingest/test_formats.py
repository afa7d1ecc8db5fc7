"""Behaviour the goldens do not show on their own: the registry, the helpers routes use,
and the rules that span two requests (a trigger and the resolve that must find it)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from tocsin.domain.alerts import AlertAction, InboundAlert, Severity
from tocsin.errors import TocsinError
from tocsin.ingest.errors import MalformedPayload, UnsupportedEvent
from tocsin.ingest.formats import FORMATS, Format, opsgenie, pagerduty_events_v2, registry
from tocsin.ingest.formats import generic as generic_format

RECEIVED_AT = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


def _alerts(name: str, body: Any, formats: Any = FORMATS) -> list[InboundAlert]:
    format_: Format[Any] = formats[name]
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    return format_.to_alerts(format_.parse(raw, {}), received_at=RECEIVED_AT)


def test_the_registry_names_every_format_by_its_own_name() -> None:
    assert set(FORMATS) == {
        "pagerduty_events_v2",
        "alertmanager",
        "grafana",
        "opsgenie",
        "datadog",
        "newrelic",
        "generic",
    }
    assert all(format_.name == name for name, format_ in FORMATS.items())
    assert all(isinstance(format_, Format) for format_ in FORMATS.values())


def test_a_pagerduty_trigger_without_a_key_gets_one_the_route_returns() -> None:
    formats = registry(new_key=lambda: "k-1")
    event = {
        "routing_key": "r" * 32,
        "event_action": "trigger",
        "payload": {"summary": "s", "source": "h", "severity": "info"},
    }
    (alert,) = _alerts("pagerduty_events_v2", event, formats)
    assert (alert.dedup_key, alert.dedup_key_generated) == ("k-1", True)
    assert pagerduty_events_v2.accepted_body(alert.dedup_key) == {
        "status": "success",
        "message": "Event processed",
        "dedup_key": "k-1",
    }


def test_random_keys_differ_between_triggers() -> None:
    event = {
        "routing_key": "r" * 32,
        "event_action": "trigger",
        "payload": {"summary": "s", "source": "h", "severity": "info"},
    }
    first, second = (_alerts("pagerduty_events_v2", event)[0] for _ in range(2))
    assert first.dedup_key != second.dedup_key


def test_pagerduty_errors_become_pagerdutys_400_body() -> None:
    format_ = FORMATS["pagerduty_events_v2"]
    with pytest.raises(MalformedPayload) as raised:
        format_.parse(b'{"routing_key": "x", "event_action": "resolve"}', {})
    body = pagerduty_events_v2.invalid_event_body(error.message for error in raised.value.errors)
    assert body == {
        "status": "invalid event",
        "message": "Event object is invalid",
        "errors": ["'dedup_key' is missing or blank"],
    }


def test_the_routing_key_is_read_from_the_parsed_event() -> None:
    format_ = pagerduty_events_v2.PagerDutyEventsV2()
    parsed = format_.parse(
        b'{"routing_key": "abc", "event_action": "resolve", "dedup_key": "d"}', {}
    )
    assert parsed.event.routing_key == "abc"


@pytest.mark.parametrize(
    ("header", "key"),
    [
        ("GenieKey 1f2e-3d4c", "1f2e-3d4c"),
        ("geniekey  abc ", "abc"),
        ("Bearer abc", None),
        ("", None),
    ],
)
def test_the_opsgenie_key_comes_from_the_authorization_header(header: str, key: str | None) -> None:
    assert opsgenie.genie_key({"authorization": header}) == key


def test_opsgenie_actions_need_an_alias_that_fits() -> None:
    format_ = opsgenie.Opsgenie()
    with pytest.raises(MalformedPayload, match="identifier"):
        format_.parse_action(
            b"",
            {},
            action=opsgenie.OpsgenieAction.CLOSE,
            identifier="a" * 513,
            identifier_type="alias",
        )
    request = format_.parse_action(
        b"",
        {},
        action=opsgenie.OpsgenieAction.CLOSE,
        identifier="disk-db-3",
        identifier_type="ALIAS",
    )
    (alert,) = format_.to_alerts(request, received_at=RECEIVED_AT)
    assert (alert.action, alert.dedup_key) == (AlertAction.RESOLVE, "disk-db-3")


def test_opsgenie_answers_like_opsgenie() -> None:
    assert opsgenie.accepted_body("req-1", 0.01) == {
        "result": "Request will be processed",
        "took": 0.01,
        "requestId": "req-1",
    }


def test_an_ignored_event_is_not_an_error_response() -> None:
    assert not issubclass(UnsupportedEvent, TocsinError)
    with pytest.raises(UnsupportedEvent, match="OTHER"):
        FORMATS["newrelic"].parse(json.dumps({"id": "i-1", "state": "other"}).encode(), {})


def test_a_generic_resolve_without_key_finds_the_trigger_by_content() -> None:
    labels = {"job": "backup"}
    (trigger,) = _alerts("generic", {"title": "Backup failed", "source": "db-1", "labels": labels})
    (resolve,) = _alerts(
        "generic",
        {"title": "backup  FAILED", "source": "DB-1", "labels": labels, "action": "ok"},
    )
    assert resolve.action is AlertAction.RESOLVE
    assert resolve.dedup_key == trigger.dedup_key


@pytest.mark.parametrize("count", [0, generic_format.MAX_BATCH + 1])
def test_generic_batches_are_bounded(count: int) -> None:
    with pytest.raises(MalformedPayload, match="array"):
        FORMATS["generic"].parse(json.dumps([{"title": "t"}] * count).encode(), {})


@pytest.mark.parametrize(
    ("transition", "action", "severity"),
    [
        ("Re-Triggered", AlertAction.TRIGGER, Severity.ERROR),
        ("No Data", AlertAction.TRIGGER, Severity.WARNING),
        ("Re-Warn", AlertAction.TRIGGER, Severity.WARNING),
        ("Warn Recovered", AlertAction.RESOLVE, Severity.WARNING),
        ("Recovered", AlertAction.RESOLVE, Severity.ERROR),
    ],
)
def test_datadog_transitions(transition: str, action: AlertAction, severity: Severity) -> None:
    body = {"alert_cycle_key": "c-1", "alert_title": "Queue depth", "alert_transition": transition}
    (alert,) = _alerts("datadog", body)
    assert (alert.action, alert.severity) == (action, severity)


def test_datadog_titles_keep_brackets_that_are_not_datadogs() -> None:
    (alert,) = _alerts(
        "datadog", {"alert_id": "9", "alert_title": "[P2] [Warn] [prod] Queue depth"}
    )
    assert alert.title == "[prod] Queue depth"
    assert alert.severity is Severity.ERROR
    assert alert.dedup_key == "9"


def test_alertmanager_gives_each_alert_its_position_in_the_body() -> None:
    alert = {"status": "firing", "labels": {"alertname": "A"}, "fingerprint": "f"}
    body = {"alerts": [alert, {**alert, "fingerprint": "g", "status": "resolved"}]}
    first, second = _alerts("alertmanager", body)
    assert [(first.raw_index, first.dedup_key), (second.raw_index, second.action)] == [
        (0, "f"),
        (1, AlertAction.RESOLVE),
    ]


def test_unknown_fields_are_never_fatal() -> None:
    body = {"alerts": [{"status": "firing", "fingerprint": "f", "new_in_v5": {"x": 1}}], "v5": 1}
    (alert,) = _alerts("alertmanager", body)
    assert alert.title == "alert f"
