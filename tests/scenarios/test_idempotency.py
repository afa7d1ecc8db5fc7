"""Idempotency keys: an event that was applied, sent again, is answered as the first time
and changes nothing; an event that was refused leaves no key behind; a key sent again with
another event is refused (422), never answered as if that event had been applied."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from datetime import UTC

import httpx
import pytest
from standardwebhooks import Webhook

from tests.builders import Seed
from tests.conftest import pooled_database
from tests.scenarios.conftest import send, trigger
from tests.scenarios.support import Records, crew, example
from tocsin.clock import FrozenClock
from tocsin.config import Settings
from tocsin.db.session import Database
from tocsin.engine.loop import Engine


@pytest.fixture
async def database(settings: Settings) -> AsyncIterator[Database]:
    """Room for a sender's retries to arrive while the first attempt is still in flight."""
    async with pooled_database(settings, 10) as db:
        yield db


@pytest.fixture
def world(database: Database) -> Records:
    return Records(database)


async def test_an_applied_event_sent_again_with_its_key_gets_the_same_answer_and_changes_nothing(
    client: httpx.AsyncClient, seed: Seed, engine: Engine, world: Records, clock: FrozenClock
) -> None:
    team = await crew(seed)
    _, key = await seed.integration(team.service)
    first = await send(client, key, trigger("db-1/disk"), **{"Idempotency-Key": "evt-1"})
    await engine.tick()
    clock.advance(minutes=1)
    again = await send(client, key, trigger("db-1/disk"), **{"Idempotency-Key": "evt-1"})
    assert again.status_code == 202
    assert again.json() == first.json()
    assert again.json()["results"][0]["result"] == "created"
    alert = await world.alert("db-1/disk")
    assert alert.count == 1
    assert alert.last_seen_at == alert.first_seen_at
    incident = await world.incident()
    assert "alert.deduplicated" not in await world.actions(incident)
    await engine.tick()
    assert await world.paged() == [team.alice.name]


async def test_the_same_event_with_another_key_is_applied_as_a_repeat(
    client: httpx.AsyncClient, seed: Seed, world: Records
) -> None:
    team = await crew(seed)
    _, key = await seed.integration(team.service)
    await send(client, key, trigger("db-1/disk"), **{"Idempotency-Key": "evt-1"})
    again = await send(client, key, trigger("db-1/disk"), **{"Idempotency-Key": "evt-2"})
    assert again.json()["results"][0]["result"] == "deduplicated"
    assert (await world.alert("db-1/disk")).count == 2


async def test_a_refused_event_retried_with_the_same_key_and_a_valid_body_is_processed(
    client: httpx.AsyncClient, seed: Seed, world: Records
) -> None:
    team = await crew(seed)
    _, key = await seed.integration(team.service)
    refused = await client.post(
        f"/ingest/{key}",
        json={"dedup_key": "db-1/disk"},
        headers={"Idempotency-Key": "evt-1"},
    )
    assert refused.status_code == 400
    retried = await send(client, key, trigger("db-1/disk"), **{"Idempotency-Key": "evt-1"})
    assert retried.status_code == 202
    assert retried.json()["results"][0]["result"] == "created"
    assert len(await world.incidents()) == 1
    outcomes = [(event.outcome.value, event.http_status) for event in await world.inbound_events()]
    assert outcomes == [("rejected", 400), ("applied", 202)]


async def test_a_pagerduty_event_sent_again_with_its_key_is_not_applied_twice(
    client: httpx.AsyncClient, seed: Seed, world: Records
) -> None:
    team = await crew(seed)
    _, key = await seed.integration(team.service, kind="pagerduty_events_v2")
    event = {**example("pagerduty_events_v2", "trigger_without_dedup_key"), "routing_key": key}
    first = await client.post("/v2/enqueue", json=event, headers={"Idempotency-Key": "evt-1"})
    again = await client.post("/v2/enqueue", json=event, headers={"Idempotency-Key": "evt-1"})
    # Without the key, this trigger would get a second generated key and a second incident.
    assert again.json() == first.json()
    assert len(await world.incidents()) == 1


async def test_retries_of_one_event_arriving_together_apply_it_once_and_all_get_its_answer(
    client: httpx.AsyncClient, seed: Seed, world: Records
) -> None:
    team = await crew(seed)
    _, key = await seed.integration(team.service)
    responses = await asyncio.gather(
        *(
            send(client, key, trigger("db-1/disk"), **{"Idempotency-Key": "evt-1"})
            for _ in range(10)
        )
    )
    assert [response.status_code for response in responses] == [202] * 10
    first = responses[0].json()
    assert all(response.json() == first for response in responses)
    assert first["results"][0]["result"] == "created"
    assert (await world.alert("db-1/disk")).count == 1
    applied = [event for event in await world.inbound_events() if event.outcome.value == "applied"]
    assert len(applied) == 1


async def test_a_key_sent_again_with_another_body_is_refused_and_the_first_answer_stays(
    client: httpx.AsyncClient, seed: Seed, world: Records
) -> None:
    team = await crew(seed)
    _, key = await seed.integration(team.service)
    first = await send(client, key, trigger("db-1/disk"), **{"Idempotency-Key": "evt-1"})
    other = await send(client, key, trigger("db-2/cpu"), **{"Idempotency-Key": "evt-1"})
    assert other.status_code == 422, other.text
    assert other.headers["content-type"] == "application/problem+json"
    assert other.json()["type"] == "/problems/idempotency-key-reused"
    assert other.json()["field"] == "Idempotency-Key"
    assert [alert.dedup_key for alert in await world.alerts()] == ["db-1/disk"]
    # The refusal is in the integration's log; the first event still answers as before.
    outcomes = [(event.outcome.value, event.http_status) for event in await world.inbound_events()]
    assert outcomes == [("applied", 202), ("rejected", 422)]
    again = await send(client, key, trigger("db-1/disk"), **{"Idempotency-Key": "evt-1"})
    assert (again.status_code, again.json()) == (202, first.json())


def standard_webhooks(secret: str, msg_id: str, body: bytes, seed: Seed) -> dict[str, str]:
    """The headers the reference library's signer gives ``body``."""
    now = seed.clock.now().astimezone(UTC)
    return {
        "content-type": "application/json",
        "webhook-id": msg_id,
        "webhook-timestamp": str(int(now.timestamp())),
        "webhook-signature": Webhook(secret).sign(msg_id, now, body.decode()),
    }


async def test_a_signed_webhook_id_sent_again_with_another_body_is_refused_not_dropped(
    client: httpx.AsyncClient, seed: Seed, world: Records, clock: FrozenClock
) -> None:
    team = await crew(seed)
    integration, key = await seed.integration(team.service, signing=True)
    secret = seed.signing_secret(integration)
    disk = json.dumps(trigger("db-1/disk")).encode()
    cpu = json.dumps(trigger("db-2/cpu")).encode()
    first = await client.post(
        f"/ingest/{key}", content=disk, headers=standard_webhooks(secret, "msg_1", disk, seed)
    )
    assert first.status_code == 202, first.text
    clock.advance(seconds=30)
    # Validly signed, same id, another alert: answering the first body's result would
    # drop this one without a word.
    other = await client.post(
        f"/ingest/{key}", content=cpu, headers=standard_webhooks(secret, "msg_1", cpu, seed)
    )
    assert other.status_code == 422, other.text
    assert other.json()["type"] == "/problems/idempotency-key-reused"
    assert other.json()["field"] == "webhook-id"
    # A true retry (same id, same body, signed again later) is answered as the first time.
    retry = await client.post(
        f"/ingest/{key}", content=disk, headers=standard_webhooks(secret, "msg_1", disk, seed)
    )
    assert (retry.status_code, retry.json()) == (202, first.json())
    assert [alert.dedup_key for alert in await world.alerts()] == ["db-1/disk"]
    assert (await world.alert("db-1/disk")).count == 1


async def test_a_pagerduty_key_sent_again_with_another_event_is_refused_in_pagerduty_shape(
    client: httpx.AsyncClient, seed: Seed, world: Records
) -> None:
    team = await crew(seed)
    _, key = await seed.integration(team.service, kind="pagerduty_events_v2")
    event = {**example("pagerduty_events_v2", "trigger"), "routing_key": key}
    first = await client.post("/v2/enqueue", json=event, headers={"Idempotency-Key": "evt-1"})
    assert first.status_code == 202, first.text
    other = await client.post(
        "/v2/enqueue",
        json={**event, "dedup_key": "srv02/mysql"},
        headers={"Idempotency-Key": "evt-1"},
    )
    assert other.status_code == 422, other.text
    answer = other.json()
    assert (answer["status"], answer["message"]) == ("invalid event", "Event object is invalid")
    assert answer["errors"][0].startswith("Idempotency-Key: ")
    assert [alert.dedup_key for alert in await world.alerts()] == ["srv01/mysql"]


async def test_an_opsgenie_key_sent_again_to_close_another_alert_is_refused(
    client: httpx.AsyncClient, seed: Seed, world: Records
) -> None:
    team = await crew(seed)
    _, key = await seed.integration(team.service, kind="opsgenie")
    genie = {"Authorization": f"GenieKey {key}"}
    for alias in ("disk", "cpu"):
        created = await client.post(
            "/v2/alerts", json={"message": f"{alias} alert", "alias": alias}, headers=genie
        )
        assert created.status_code == 202, created.text
    # The bodies are alike (empty); the alert to close is named in the URL.
    closes = [
        await client.post(
            f"/v2/alerts/{alias}/close?identifierType=alias",
            headers={**genie, "Idempotency-Key": "close-1"},
        )
        for alias in ("disk", "cpu")
    ]
    assert [response.status_code for response in closes] == [202, 422], closes[1].text
    assert closes[1].json()["type"] == "/problems/idempotency-key-reused"
    statuses = {alert.dedup_key: alert.status.value for alert in await world.alerts()}
    assert statuses == {"disk": "resolved", "cpu": "firing"}
