"""Every intake format end to end over HTTP: seed, send the source's own body, tick, look.

The bodies are the real examples shipped in ``ingest/examples/<format>/``, with the keys
and identities a scenario needs put in.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import timedelta
from typing import Any

import httpx
import pytest

from tests.builders import Seed
from tests.scenarios.support import Records, crew, example
from tocsin.clock import FrozenClock
from tocsin.db.session import Database
from tocsin.engine.loop import Engine
from tocsin.ingest import signatures

JSON = {"content-type": "application/json"}


@pytest.fixture
def world(database: Database) -> Records:
    return Records(database)


def encoded(body: Any) -> bytes:
    return json.dumps(body).encode()


# PagerDuty Events API v2


def pagerduty(case: str, routing_key: str, **changes: Any) -> dict[str, Any]:
    return {**example("pagerduty_events_v2", case), "routing_key": routing_key, **changes}


async def test_pagerduty_trigger_is_answered_as_pagerduty_does_and_pages(
    client: httpx.AsyncClient, seed: Seed, engine: Engine, world: Records
) -> None:
    team = await crew(seed)
    _, key = await seed.integration(team.service, kind="pagerduty_events_v2")
    response = await client.post("/v2/enqueue", json=pagerduty("trigger", key))
    assert response.status_code == 202, response.text
    assert response.json() == {
        "status": "success",
        "message": "Event processed",
        "dedup_key": "srv01/mysql",
    }
    await engine.tick()
    incident = await world.incident()
    assert incident.title == "DISK at 99% on machine prod-datapipe03.example.com"
    assert await world.paged() == [team.alice.name]


async def test_pagerduty_trigger_without_dedup_key_gets_a_key_that_later_resolves_it(
    client: httpx.AsyncClient, seed: Seed, engine: Engine, world: Records
) -> None:
    team = await crew(seed)
    _, key = await seed.integration(team.service, kind="pagerduty_events_v2")
    triggered = await client.post("/v2/enqueue", json=pagerduty("trigger_without_dedup_key", key))
    assert triggered.status_code == 202, triggered.text
    generated = triggered.json()["dedup_key"]
    assert generated
    assert (await world.alert(generated)).status.value == "firing"
    resolved = await client.post(
        "/v2/enqueue",
        json={"routing_key": key, "event_action": "resolve", "dedup_key": generated},
    )
    assert resolved.json() == {
        "status": "success",
        "message": "Event processed",
        "dedup_key": generated,
    }
    incident = await world.incident()
    assert incident.status.value == "resolved"
    await engine.tick()
    assert await world.pages() == []


async def test_pagerduty_acknowledge_stops_the_escalation(
    client: httpx.AsyncClient, seed: Seed, engine: Engine, world: Records, clock: FrozenClock
) -> None:
    team = await crew(seed)
    integration, key = await seed.integration(team.service, kind="pagerduty_events_v2")
    await client.post("/v2/enqueue", json=pagerduty("trigger", key))
    await engine.tick()
    clock.advance(minutes=1)
    acked = await client.post("/v2/enqueue", json=pagerduty("acknowledge", key))
    assert acked.status_code == 202, acked.text
    assert acked.json()["dedup_key"] == "srv01/mysql"
    incident = await world.incident()
    assert incident.status.value == "acknowledged"
    assert incident.acknowledged_by == f"{integration.name} (pagerduty_events_v2)"
    assert ("incident.acknowledged", {"via": "pagerduty_events_v2"}) in await world.timeline(
        incident
    )
    clock.advance(hours=1)
    await engine.tick()
    assert await world.paged() == [team.alice.name]


async def test_pagerduty_resolve_resolves_the_incident_and_its_alert(
    client: httpx.AsyncClient, seed: Seed, world: Records
) -> None:
    team = await crew(seed)
    _, key = await seed.integration(team.service, kind="pagerduty_events_v2")
    await client.post("/v2/enqueue", json=pagerduty("trigger", key))
    resolved = await client.post("/v2/enqueue", json=pagerduty("resolve", key))
    assert resolved.status_code == 202, resolved.text
    assert (await world.incident()).status.value == "resolved"
    assert (await world.alert("srv01/mysql")).status.value == "resolved"


@pytest.mark.parametrize(
    ("case", "error"),
    [
        ("missing_summary", "payload.summary"),
        ("bad_severity", "payload.severity"),
        ("several_errors", "event_action"),
    ],
)
async def test_pagerduty_invalid_event_gets_pagerduty_400_body_and_changes_nothing(
    client: httpx.AsyncClient, seed: Seed, world: Records, case: str, error: str
) -> None:
    team = await crew(seed)
    _, key = await seed.integration(team.service, kind="pagerduty_events_v2")
    response = await client.post("/v2/enqueue", json=pagerduty(case, key))
    assert response.status_code == 400
    body = response.json()
    assert body["status"] == "invalid event"
    assert body["message"] == "Event object is invalid"
    assert any(error in message for message in body["errors"]), body
    assert await world.incidents() == []


async def test_pagerduty_body_that_is_not_json_gets_pagerduty_400_body(
    client: httpx.AsyncClient,
) -> None:
    response = await client.post("/v2/enqueue", content=b'{"routing_key": ', headers=JSON)
    assert response.status_code == 400
    assert response.json()["status"] == "invalid event"


async def test_pagerduty_unknown_routing_key_gets_invalid_routing_key(
    client: httpx.AsyncClient, seed: Seed, world: Records
) -> None:
    await crew(seed)
    response = await client.post("/v2/enqueue", json=pagerduty("trigger", "tik_nobody"))
    assert response.status_code == 400
    assert response.json() == {
        "status": "invalid event",
        "message": "Event object is invalid",
        "errors": ["Invalid routing key"],
    }
    assert await world.incidents() == []


async def test_pagerduty_change_event_is_recorded_on_the_service_and_pages_nobody(
    client: httpx.AsyncClient, seed: Seed, engine: Engine, world: Records
) -> None:
    team = await crew(seed)
    _, key = await seed.integration(team.service, kind="pagerduty_events_v2")
    response = await client.post("/v2/change/enqueue", json=pagerduty("change_event", key))
    assert response.status_code == 202, response.text
    assert response.json()["status"] == "success"
    await engine.tick()
    [change] = await world.change_events()
    assert change.service_id == team.service.id
    assert change.summary == "Build Success: Increase snapshot create timeout to 30 seconds"
    assert change.links[0]["href"] == "https://ci.example.com/build/2"
    assert await world.incidents() == []
    assert await world.pages() == []


# Prometheus Alertmanager


async def test_alertmanager_two_firing_alerts_open_two_incidents_and_page_both(
    client: httpx.AsyncClient, seed: Seed, engine: Engine, world: Records
) -> None:
    team = await crew(seed)
    _, key = await seed.integration(team.service, kind="alertmanager")
    response = await client.post(
        f"/ingest/{key}", json=example("alertmanager", "firing_two_alerts")
    )
    assert response.status_code == 202, response.text
    assert [result["result"] for result in response.json()["results"]] == ["created", "created"]
    await engine.tick()
    first, second = await world.incidents()
    assert first.title == "5xx rate above 5% on api-1.prod"
    assert second.title == "5xx rate above 5% on api-2.prod"
    assert await world.paged(first) == [team.alice.name]
    assert await world.paged(second) == [team.alice.name]


async def test_alertmanager_resolved_status_resolves_only_that_alerts_incident(
    client: httpx.AsyncClient, seed: Seed, world: Records
) -> None:
    team = await crew(seed)
    _, key = await seed.integration(team.service, kind="alertmanager")
    await client.post(f"/ingest/{key}", json=example("alertmanager", "firing_two_alerts"))
    response = await client.post(f"/ingest/{key}", json=example("alertmanager", "resolved"))
    assert [result["result"] for result in response.json()["results"]] == ["resolved"]
    first, second = await world.incidents()
    assert (first.status.value, second.status.value) == ("resolved", "triggered")
    assert (await world.alert("c3a1f2b94d7e0a61")).status.value == "resolved"


async def test_alertmanager_alerts_with_the_same_summary_but_different_fingerprints_stay_apart(
    client: httpx.AsyncClient, seed: Seed, world: Records
) -> None:
    team = await crew(seed)
    _, key = await seed.integration(team.service, kind="alertmanager")
    body = example("alertmanager", "firing_two_alerts")
    for alert in body["alerts"]:
        alert["annotations"] = {"summary": "5xx rate above 5%"}
        alert["labels"] = {"alertname": "HighErrorRate", "severity": "critical"}
    await client.post(f"/ingest/{key}", json=body)
    again = await client.post(f"/ingest/{key}", json={**body, "alerts": body["alerts"][1:]})
    assert [result["result"] for result in again.json()["results"]] == ["deduplicated"]
    first, second = await world.incidents()
    assert first.title == second.title == "5xx rate above 5%"
    assert sorted(alert.dedup_key for alert in await world.alerts()) == [
        "7be2d0c55f1843aa",
        "c3a1f2b94d7e0a61",
    ]
    assert (await world.alert("7be2d0c55f1843aa")).count == 2


# Grafana Alerting


def grafana_signature(secret: str, body: bytes, timestamp: str | None = None) -> str:
    signed = f"{timestamp}:".encode() + body if timestamp else body
    return hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()


async def test_grafana_firing_then_resolved_on_an_unsigned_integration(
    client: httpx.AsyncClient, seed: Seed, engine: Engine, world: Records
) -> None:
    team = await crew(seed)
    _, key = await seed.integration(team.service, kind="grafana")
    firing = await client.post(f"/ingest/{key}", json=example("grafana", "firing"))
    assert firing.status_code == 202, firing.text
    await engine.tick()
    incident = await world.incident()
    assert incident.title == "Checkout p99 latency above 1.5 s"
    assert await world.paged() == [team.alice.name]
    await client.post(f"/ingest/{key}", json=example("grafana", "resolved"))
    assert (await world.incident()).status.value == "resolved"


@pytest.mark.parametrize(
    "timestamp_header",
    [None, "X-Grafana-Alerting-Timestamp", "X-Grafana-Alerting-Signature-Timestamp"],
    ids=["body-only", "timestamp", "signature-timestamp"],
)
async def test_grafana_signed_integration_accepts_a_valid_signature(
    client: httpx.AsyncClient,
    seed: Seed,
    world: Records,
    clock: FrozenClock,
    timestamp_header: str | None,
) -> None:
    team = await crew(seed)
    integration, key = await seed.integration(team.service, kind="grafana", signing=True)
    body = encoded(example("grafana", "firing"))
    stamp = str(int(clock.now().timestamp())) if timestamp_header else None
    headers = {
        **JSON,
        "X-Grafana-Alerting-Signature": grafana_signature(
            seed.signing_secret(integration), body, stamp
        ),
        **({timestamp_header: stamp} if timestamp_header and stamp else {}),
    }
    response = await client.post(f"/ingest/{key}", content=body, headers=headers)
    assert response.status_code == 202, response.text
    assert len(await world.incidents()) == 1


@pytest.mark.parametrize(
    ("signature", "problem"),
    [("0" * 64, "signature-invalid"), (None, "signature-missing")],
    ids=["wrong", "missing"],
)
async def test_grafana_signed_integration_refuses_a_wrong_or_missing_signature_with_401(
    client: httpx.AsyncClient,
    seed: Seed,
    world: Records,
    signature: str | None,
    problem: str,
) -> None:
    team = await crew(seed)
    _, key = await seed.integration(team.service, kind="grafana", signing=True)
    headers = {**JSON, **({"X-Grafana-Alerting-Signature": signature} if signature else {})}
    body = encoded(example("grafana", "firing"))
    response = await client.post(f"/ingest/{key}", content=body, headers=headers)
    assert response.status_code == 401
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["type"] == f"/problems/{problem}"
    assert await world.incidents() == []
    [logged] = await world.inbound_events()
    assert (logged.outcome.value, logged.http_status) == ("rejected", 401)


async def test_grafana_signature_over_a_different_body_is_refused(
    client: httpx.AsyncClient, seed: Seed, world: Records
) -> None:
    team = await crew(seed)
    integration, key = await seed.integration(team.service, kind="grafana", signing=True)
    signed = encoded(example("grafana", "firing"))
    sent = encoded(example("grafana", "resolved"))
    headers = {
        **JSON,
        "X-Grafana-Alerting-Signature": grafana_signature(seed.signing_secret(integration), signed),
    }
    response = await client.post(f"/ingest/{key}", content=sent, headers=headers)
    assert response.status_code == 401
    assert await world.alerts() == []


# Opsgenie Alert API


async def test_opsgenie_create_acknowledge_and_close_by_alias(
    client: httpx.AsyncClient, seed: Seed, engine: Engine, world: Records, clock: FrozenClock
) -> None:
    team = await crew(seed)
    integration, key = await seed.integration(team.service, kind="opsgenie")
    genie = {"Authorization": f"GenieKey {key}"}
    alias = example("opsgenie", "create")["alias"]
    created = await client.post("/v2/alerts", json=example("opsgenie", "create"), headers=genie)
    assert created.status_code == 202, created.text
    assert created.json()["result"] == "Request will be processed"
    assert created.json()["requestId"]
    await engine.tick()
    assert await world.paged() == [team.alice.name]

    acked = await client.post(
        f"/v2/alerts/{alias}/acknowledge",
        params={"identifierType": "alias"},
        json=example("opsgenie", "acknowledge_by_alias"),
        headers=genie,
    )
    assert acked.status_code == 202, acked.text
    incident = await world.incident()
    assert incident.status.value == "acknowledged"
    assert incident.acknowledged_by == f"{integration.name} (opsgenie)"
    clock.advance(minutes=30)
    await engine.tick()
    assert await world.paged() == [team.alice.name]

    closed = await client.post(
        f"/v2/alerts/{alias}/close",
        params={"identifierType": "alias"},
        json=example("opsgenie", "close_by_alias"),
        headers=genie,
    )
    assert closed.status_code == 202, closed.text
    assert (await world.incident()).status.value == "resolved"
    assert (await world.alert(alias)).status.value == "resolved"


async def test_opsgenie_close_by_opsgenie_id_is_accepted_and_changes_nothing(
    client: httpx.AsyncClient, seed: Seed, world: Records
) -> None:
    team = await crew(seed)
    _, key = await seed.integration(team.service, kind="opsgenie")
    genie = {"Authorization": f"GenieKey {key}"}
    await client.post("/v2/alerts", json=example("opsgenie", "create"), headers=genie)
    closed = await client.post(
        "/v2/alerts/70413a06-38d6-4c85-92b8-5ebc900d42e2/close",
        json=example("opsgenie", "close_by_id"),
        headers=genie,
    )
    assert closed.status_code == 202
    assert (await world.incident()).status.value == "triggered"


async def status_of(client: httpx.AsyncClient, answered: httpx.Response, key: str) -> Any:
    request_id = answered.json()["requestId"]
    response = await client.get(
        f"/v2/alerts/requests/{request_id}", headers={"Authorization": f"GenieKey {key}"}
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["requestId"] == request_id
    return body["data"]


async def test_opsgenie_request_status_tells_what_each_request_did(
    client: httpx.AsyncClient, seed: Seed, world: Records, clock: FrozenClock
) -> None:
    team = await crew(seed)
    integration, key = await seed.integration(team.service, kind="opsgenie")
    genie = {"Authorization": f"GenieKey {key}"}
    alias = example("opsgenie", "create")["alias"]
    created = await client.post("/v2/alerts", json=example("opsgenie", "create"), headers=genie)
    assert set(created.json()) == {"result", "took", "requestId"}
    alert = await world.alert(alias)
    assert await status_of(client, created, key) == {
        "success": True,
        "action": "Create",
        "processedAt": clock.now().isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        "integrationId": str(integration.id),
        "isSuccess": True,
        "status": "Created alert",
        "alertId": str(alert.id),
        "alias": alias,
    }
    clock.advance(seconds=5)
    repeated = await client.post("/v2/alerts", json=example("opsgenie", "create"), headers=genie)
    assert (await status_of(client, repeated, key))["status"] == "Alert deduplicated"

    actions = {}
    for action in ("acknowledge", "close", "close"):
        clock.advance(seconds=5)
        answered = await client.post(
            f"/v2/alerts/{alias}/{action}", params={"identifierType": "alias"}, headers=genie
        )
        assert set(answered.json()) == {"result", "took", "requestId"}
        actions[answered.json()["requestId"]] = await status_of(client, answered, key)
    acked, closed, closed_again = actions.values()
    assert (acked["action"], acked["isSuccess"], acked["status"]) == (
        "Acknowledge",
        True,
        "Acknowledged",
    )
    assert (closed["action"], closed["isSuccess"], closed["status"]) == ("Close", True, "Closed")
    assert closed["alertId"] == str(alert.id)
    assert (closed_again["isSuccess"], closed_again["alias"]) == (False, alias)
    assert closed_again["status"].startswith("Alert does not exist")


async def test_opsgenie_request_status_of_a_request_ignored_says_it_failed_and_why(
    client: httpx.AsyncClient, seed: Seed
) -> None:
    team = await crew(seed)
    _, key = await seed.integration(team.service, kind="opsgenie")
    genie = {"Authorization": f"GenieKey {key}"}
    closed = await client.post(
        "/v2/alerts/70413a06-38d6-4c85-92b8-5ebc900d42e2/close", headers=genie
    )
    assert closed.status_code == 202
    assert set(closed.json()) == {"result", "took", "requestId"}
    status = await status_of(client, closed, key)
    assert (status["action"], status["isSuccess"]) == ("Close", False)
    assert "identifierType=alias" in status["status"]


async def test_opsgenie_request_status_is_404_for_a_request_of_another_integration_or_none(
    client: httpx.AsyncClient, seed: Seed
) -> None:
    team = await crew(seed)
    _, key = await seed.integration(team.service, kind="opsgenie")
    _, other_key = await seed.integration(team.service, kind="opsgenie")
    created = await client.post(
        "/v2/alerts",
        json=example("opsgenie", "create"),
        headers={"Authorization": f"GenieKey {key}"},
    )
    request_id = created.json()["requestId"]
    for asked, asking in (
        (request_id, other_key),
        ("70413a06-38d6-4c85-92b8-5ebc900d42e2", key),
        ("not-a-request-id", key),
    ):
        response = await client.get(
            f"/v2/alerts/requests/{asked}", headers={"Authorization": f"GenieKey {asking}"}
        )
        assert response.status_code == 404, response.text
        assert response.json()["message"].startswith("Request not found")


async def test_opsgenie_request_replayed_by_idempotency_key_answers_the_same_request_id(
    client: httpx.AsyncClient, seed: Seed, world: Records
) -> None:
    team = await crew(seed)
    _, key = await seed.integration(team.service, kind="opsgenie")
    headers = {"Authorization": f"GenieKey {key}", "Idempotency-Key": "create-1"}
    first = await client.post("/v2/alerts", json=example("opsgenie", "create"), headers=headers)
    again = await client.post("/v2/alerts", json=example("opsgenie", "create"), headers=headers)
    assert again.json() == first.json()
    assert set(again.json()) == {"result", "took", "requestId"}
    assert (await status_of(client, again, key))["status"] == "Created alert"


@pytest.mark.parametrize(
    "authorization", [None, "Bearer tik_x", "GenieKey "], ids=["absent", "bearer", "empty"]
)
async def test_opsgenie_without_a_geniekey_is_refused_with_401(
    client: httpx.AsyncClient, seed: Seed, world: Records, authorization: str | None
) -> None:
    team = await crew(seed)
    await seed.integration(team.service, kind="opsgenie")
    headers = {"Authorization": authorization} if authorization else {}
    response = await client.post("/v2/alerts", json=example("opsgenie", "create"), headers=headers)
    assert response.status_code == 401
    assert response.json()["type"] == "/problems/not-authenticated"
    assert await world.incidents() == []


# Datadog and New Relic: the key in the URL, or in a header for tools that prefer it


async def post_with_key(
    client: httpx.AsyncClient, key: str, key_in: str, body: dict[str, Any]
) -> httpx.Response:
    if key_in == "url":
        return await client.post(f"/ingest/{key}", json=body)
    return await client.post("/ingest", json=body, headers={"X-Tocsin-Integration-Key": key})


@pytest.mark.parametrize("key_in", ["url", "header"])
async def test_datadog_trigger_pages_and_its_recovery_resolves(
    client: httpx.AsyncClient, seed: Seed, engine: Engine, world: Records, key_in: str
) -> None:
    team = await crew(seed)
    _, key = await seed.integration(team.service, kind="datadog")
    triggered = await post_with_key(client, key, key_in, example("datadog", "triggered"))
    assert triggered.status_code == 202, triggered.text
    await engine.tick()
    incident = await world.incident()
    assert incident.title == "Nginx stopped serving requests"
    assert incident.severity.value == "critical"
    assert await world.paged() == [team.alice.name]
    recovered = await post_with_key(client, key, key_in, example("datadog", "recovered"))
    assert recovered.json()["results"][0]["result"] == "resolved"
    assert (await world.incident()).status.value == "resolved"


async def test_datadog_default_template_recovery_finds_its_trigger_by_content(
    client: httpx.AsyncClient, seed: Seed, world: Records
) -> None:
    team = await crew(seed)
    _, key = await seed.integration(team.service, kind="datadog")
    await client.post(f"/ingest/{key}", json=example("datadog", "default_template"))
    await client.post(f"/ingest/{key}", json=example("datadog", "default_template_other_host"))
    await client.post(f"/ingest/{key}", json=example("datadog", "default_template_recovered"))
    web_3, web_4 = await world.incidents()
    assert (web_3.status.value, web_4.status.value) == ("resolved", "triggered")


@pytest.mark.parametrize("key_in", ["url", "header"])
async def test_newrelic_activated_issue_pages_and_closing_it_resolves(
    client: httpx.AsyncClient, seed: Seed, engine: Engine, world: Records, key_in: str
) -> None:
    team = await crew(seed)
    _, key = await seed.integration(team.service, kind="newrelic")
    activated = await post_with_key(client, key, key_in, example("newrelic", "activated"))
    assert activated.status_code == 202, activated.text
    await engine.tick()
    assert await world.paged() == [team.alice.name]
    closed = await post_with_key(client, key, key_in, example("newrelic", "closed"))
    assert closed.json()["results"][0]["result"] == "resolved"
    assert (await world.incident()).status.value == "resolved"


async def test_newrelic_acknowledged_issue_acknowledges_the_incident(
    client: httpx.AsyncClient, seed: Seed, world: Records
) -> None:
    team = await crew(seed)
    _, key = await seed.integration(team.service, kind="newrelic")
    await client.post(f"/ingest/{key}", json=example("newrelic", "activated"))
    await client.post(f"/ingest/{key}", json=example("newrelic", "acknowledged"))
    assert (await world.incident()).status.value == "acknowledged"


async def test_newrelic_created_issue_is_ignored_with_202_and_opens_nothing(
    client: httpx.AsyncClient, seed: Seed, world: Records
) -> None:
    team = await crew(seed)
    _, key = await seed.integration(team.service, kind="newrelic")
    response = await client.post(f"/ingest/{key}", json=example("newrelic", "created"))
    assert response.status_code == 202
    assert response.json()["status"] == "ignored"
    assert "only created" in response.json()["reason"]
    assert await world.incidents() == []


# tocsin's generic JSON, and Standard Webhooks signatures


async def test_generic_batch_applies_each_alert_in_order(
    client: httpx.AsyncClient, seed: Seed, engine: Engine, world: Records
) -> None:
    team = await crew(seed)
    _, key = await seed.integration(team.service)
    await client.post(f"/ingest/{key}", json={"title": "SMS backlog", "dedup_key": "sms"})
    batch = [
        example("generic", "trigger"),
        {"title": "Emails backlog", "dedup_key": "emails", "severity": "warning"},
        {"action": "resolve", "dedup_key": "sms"},
        {"action": "resolve", "dedup_key": "never-sent"},
    ]
    response = await client.post(f"/ingest/{key}", json=batch)
    assert response.status_code == 202, response.text
    assert [(r["dedup_key"], r["result"]) for r in response.json()["results"]] == [
        ("db-replica-2/replication-lag", "created"),
        ("emails", "created"),
        ("sms", "resolved"),
        ("never-sent", "ignored"),
    ]
    await engine.tick()
    sms, replication, emails = await world.incidents()
    assert sms.status.value == "resolved"
    assert replication.urgency.value == "high"
    assert emails.urgency.value == "low"
    assert await world.paged(replication) == [team.alice.name]


async def test_generic_batch_with_one_bad_alert_is_refused_whole(
    client: httpx.AsyncClient, seed: Seed, world: Records
) -> None:
    team = await crew(seed)
    _, key = await seed.integration(team.service)
    response = await client.post(f"/ingest/{key}", json=example("generic", "batch_with_errors"))
    assert response.status_code == 400
    assert response.json()["type"] == "/problems/malformed-payload"
    assert {error["field"] for error in response.json()["errors"]} >= {"[1].title", "[2]"}
    assert await world.alerts() == []


def webhook_headers(
    secret: str, body: bytes, clock: FrozenClock, *, msg_id: str = "msg_1", skew: float = 0
) -> dict[str, str]:
    return {
        **JSON,
        **signatures.sign(
            body, secret, msg_id=msg_id, timestamp=clock.now() + timedelta(seconds=skew)
        ),
    }


@pytest.mark.parametrize("skew", [-300, 0, 300])
async def test_generic_signed_integration_accepts_a_standard_webhooks_signature(
    client: httpx.AsyncClient, seed: Seed, world: Records, clock: FrozenClock, skew: int
) -> None:
    team = await crew(seed)
    integration, key = await seed.integration(team.service, signing=True)
    body = encoded(example("generic", "trigger"))
    headers = webhook_headers(seed.signing_secret(integration), body, clock, skew=skew)
    response = await client.post(f"/ingest/{key}", content=body, headers=headers)
    assert response.status_code == 202, response.text
    assert len(await world.incidents()) == 1


async def test_generic_signed_integration_refuses_a_wrong_signature(
    client: httpx.AsyncClient, seed: Seed, world: Records, clock: FrozenClock
) -> None:
    team = await crew(seed)
    _, key = await seed.integration(team.service, signing=True)
    body = encoded(example("generic", "trigger"))
    other_secret = "whsec_" + "A" * 44
    response = await client.post(
        f"/ingest/{key}", content=body, headers=webhook_headers(other_secret, body, clock)
    )
    assert response.status_code == 401
    assert response.json()["type"] == "/problems/signature-invalid"
    assert await world.incidents() == []


async def test_generic_signed_integration_refuses_an_unsigned_request(
    client: httpx.AsyncClient, seed: Seed, world: Records
) -> None:
    team = await crew(seed)
    _, key = await seed.integration(team.service, signing=True)
    response = await client.post(f"/ingest/{key}", json=example("generic", "trigger"))
    assert response.status_code == 401
    assert response.json()["type"] == "/problems/signature-missing"
    assert await world.incidents() == []


@pytest.mark.parametrize("skew", [-301, 301], ids=["too-old", "from-the-future"])
async def test_generic_signed_integration_refuses_a_timestamp_beyond_300_seconds(
    client: httpx.AsyncClient, seed: Seed, world: Records, clock: FrozenClock, skew: int
) -> None:
    team = await crew(seed)
    integration, key = await seed.integration(team.service, signing=True)
    body = encoded(example("generic", "trigger"))
    headers = webhook_headers(seed.signing_secret(integration), body, clock, skew=skew)
    response = await client.post(f"/ingest/{key}", content=body, headers=headers)
    assert response.status_code == 401
    assert response.json()["type"] == "/problems/signature-expired"
    assert await world.incidents() == []


async def test_generic_signed_delivery_replayed_by_webhook_id_is_answered_alike_and_changes_nothing(
    client: httpx.AsyncClient, seed: Seed, engine: Engine, world: Records, clock: FrozenClock
) -> None:
    team = await crew(seed)
    integration, key = await seed.integration(team.service, signing=True)
    secret = seed.signing_secret(integration)
    body = encoded(example("generic", "trigger"))
    first = await client.post(
        f"/ingest/{key}", content=body, headers=webhook_headers(secret, body, clock)
    )
    await engine.tick()
    clock.advance(seconds=30)
    # The sender's retry signs again with a fresh timestamp but keeps the delivery's id.
    replayed = await client.post(
        f"/ingest/{key}", content=body, headers=webhook_headers(secret, body, clock)
    )
    assert replayed.status_code == 202
    assert replayed.json() == first.json()
    alert = await world.alert("db-replica-2/replication-lag")
    assert alert.count == 1
    incident = await world.incident()
    assert "alert.deduplicated" not in await world.actions(incident)
    await engine.tick()
    assert await world.paged() == [team.alice.name]


async def test_generic_alerts_without_a_key_are_deduplicated_and_resolved_by_their_content(
    client: httpx.AsyncClient, seed: Seed, world: Records
) -> None:
    team = await crew(seed)
    _, key = await seed.integration(team.service)
    first = await client.post(f"/ingest/{key}", json=example("generic", "without_dedup_key"))
    again = await client.post(f"/ingest/{key}", json=example("generic", "without_dedup_key"))
    assert [r.json()["results"][0]["result"] for r in (first, again)] == [
        "created",
        "deduplicated",
    ]
    # The resolve spells the title and source differently (spaces, case): same content.
    resolved = await client.post(
        f"/ingest/{key}", json=example("generic", "resolve_without_dedup_key")
    )
    assert resolved.json()["results"][0]["result"] == "resolved"
    assert (await world.incident()).status.value == "resolved"


async def test_grafana_timestamped_signature_is_refused_when_older_than_300_seconds(
    client: httpx.AsyncClient, seed: Seed, world: Records, clock: FrozenClock
) -> None:
    team = await crew(seed)
    integration, key = await seed.integration(team.service, kind="grafana", signing=True)
    body = encoded(example("grafana", "firing"))
    stamp = str(int(clock.now().timestamp()) - 301)
    headers = {
        **JSON,
        "X-Grafana-Alerting-Signature": grafana_signature(
            seed.signing_secret(integration), body, stamp
        ),
        "X-Grafana-Alerting-Timestamp": stamp,
    }
    response = await client.post(f"/ingest/{key}", content=body, headers=headers)
    assert response.status_code == 401
    assert response.json()["type"] == "/problems/signature-expired"
    assert await world.incidents() == []


async def test_grafana_timestamped_request_replayed_is_answered_alike_and_changes_nothing(
    client: httpx.AsyncClient, seed: Seed, world: Records, clock: FrozenClock
) -> None:
    team = await crew(seed)
    integration, key = await seed.integration(team.service, kind="grafana", signing=True)
    body = encoded(example("grafana", "firing"))
    stamp = str(int(clock.now().timestamp()))
    headers = {
        **JSON,
        "X-Grafana-Alerting-Signature": grafana_signature(
            seed.signing_secret(integration), body, stamp
        ),
        "X-Grafana-Alerting-Timestamp": stamp,
    }
    first = await client.post(f"/ingest/{key}", content=body, headers=headers)
    clock.advance(seconds=60)
    replayed = await client.post(f"/ingest/{key}", content=body, headers=headers)
    assert replayed.status_code == 202
    assert replayed.json() == first.json()
    assert (await world.alert("9c0b6f1e53a4d872")).count == 1
