"""Bad input and failures at the intake: every refusal is a 4xx a sender can act on, or a
503 it retries; never a 500, and never a change."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.builders import BASE_URL, SECRET, Seed
from tests.conftest import IsolatedSettings
from tests.scenarios.conftest import send, trigger
from tests.scenarios.support import IntakePath, Records, crew, example, intake_paths
from tocsin.actions.actors import system_actor
from tocsin.actions.services import integrations
from tocsin.app import create_app
from tocsin.clock import FrozenClock
from tocsin.config import Settings
from tocsin.db.session import Database
from tocsin.ingest import signatures

JSON = {"content-type": "application/json"}
UNREACHABLE = "postgresql://postgres@127.0.0.1:1/nowhere?connect_timeout=2"


@pytest.fixture
def world(database: Database) -> Records:
    return Records(database)


# Oversize bodies


def oversize(settings: Settings) -> bytes:
    """A valid alert padded one byte past the intake limit."""
    head = b'{"title": "Disk full", "dedup_key": "db-1/disk", "description": "'
    tail = b'"}'
    padding = settings.ingest_max_body_bytes + 1 - len(head) - len(tail)
    return head + b"x" * padding + tail


async def test_an_alert_body_over_512_kb_is_refused_with_413(
    client: httpx.AsyncClient, seed: Seed, world: Records, settings: Settings
) -> None:
    team = await crew(seed)
    _, key = await seed.integration(team.service)
    assert settings.ingest_max_body_bytes == 512 * 1024
    response = await client.post(f"/ingest/{key}", content=oversize(settings), headers=JSON)
    assert response.status_code == 413
    assert response.json()["type"] == "/problems/payload-too-large"
    assert await world.alerts() == []


async def test_a_chunked_body_that_grows_past_the_limit_is_refused_with_413(
    client: httpx.AsyncClient, seed: Seed, world: Records, settings: Settings
) -> None:
    team = await crew(seed)
    _, key = await seed.integration(team.service)
    body = oversize(settings)

    async def chunks() -> AsyncIterator[bytes]:
        # No Content-Length: the limit is enforced while the body streams in.
        for start in range(0, len(body), 64 * 1024):
            yield body[start : start + 64 * 1024]

    response = await client.post(f"/ingest/{key}", content=chunks(), headers=JSON)
    assert response.status_code == 413
    assert await world.alerts() == []


async def test_a_body_of_exactly_the_limit_is_accepted(
    client: httpx.AsyncClient, seed: Seed, world: Records, settings: Settings
) -> None:
    team = await crew(seed)
    _, key = await seed.integration(team.service)
    body = oversize(settings)
    body = body[:-3] + body[-2:]
    response = await client.post(f"/ingest/{key}", content=body, headers=JSON)
    assert response.status_code == 202, response.text
    assert len(await world.alerts()) == 1


async def test_a_pagerduty_event_over_the_limit_is_refused_with_413(
    client: httpx.AsyncClient, seed: Seed, settings: Settings
) -> None:
    team = await crew(seed)
    _, key = await seed.integration(team.service, kind="pagerduty_events_v2")
    body = {
        **example("pagerduty_events_v2", "trigger"),
        "routing_key": key,
        "payload": {"summary": "x", "source": "y", "severity": "info", "custom_details": {}},
    }
    body["payload"]["custom_details"]["blob"] = "x" * settings.ingest_max_body_bytes
    response = await client.post("/v2/enqueue", json=body)
    assert response.status_code == 413


# Unknown keys


async def test_an_unknown_integration_key_is_404_problem_json(
    client: httpx.AsyncClient, seed: Seed, world: Records
) -> None:
    team = await crew(seed)
    await seed.integration(team.service)
    for response in (
        await send(client, "tik_unknown", trigger("x")),
        await client.post("/ingest", json=trigger("x"), headers={"X-Tocsin-Integration-Key": "x"}),
        await client.get("/ingest/tik_unknown"),
    ):
        assert response.status_code == 404, response.text
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json()["type"] == "/problems/not-found"
    assert await world.inbound_events() == []


# Opsgenie's SDKs report a 404 as "resource not found" and a 401 as an authentication error.
@pytest.mark.parametrize("kind", [None, "generic", "alertmanager", "heartbeat"])
async def test_opsgenie_answers_an_unknown_or_other_kind_key_401_as_opsgenie_does(
    client: httpx.AsyncClient, seed: Seed, world: Records, kind: str | None
) -> None:
    team = await crew(seed)
    _, key = await seed.integration(team.service, kind=kind or "opsgenie")
    if kind is None:
        key = "tik_unknown"
    genie = {"Authorization": f"GenieKey {key}"}
    for response in (
        await client.post("/v2/alerts", json=example("opsgenie", "create"), headers=genie),
        await client.post(
            "/v2/alerts/disk-db-3/close", params={"identifierType": "alias"}, headers=genie
        ),
        await client.get(f"/v2/alerts/requests/{uuid.uuid4()}", headers=genie),
    ):
        assert response.status_code == 401, response.text
        assert response.headers["content-type"] == "application/problem+json"
        assert response.headers["www-authenticate"] == 'GenieKey realm="tocsin"'
        refused = response.json()
        assert refused["type"] == "/problems/not-authenticated"
        assert refused["message"] == "Could not authenticate"
        assert refused["requestId"]
    assert await world.alerts() == []
    assert await world.inbound_events() == []


@pytest.mark.parametrize("kind", ["generic", "alertmanager", "opsgenie", "heartbeat"])
async def test_pagerduty_routes_answer_another_kinds_key_as_an_invalid_routing_key(
    client: httpx.AsyncClient, seed: Seed, world: Records, kind: str
) -> None:
    team = await crew(seed)
    _, key = await seed.integration(team.service, kind=kind)
    for response in (
        await client.post(
            "/v2/enqueue", json={**example("pagerduty_events_v2", "trigger"), "routing_key": key}
        ),
        await client.post(
            "/v2/change/enqueue",
            json={**example("pagerduty_events_v2", "change_event"), "routing_key": key},
        ),
    ):
        assert response.status_code == 400, response.text
        assert response.json() == {
            "status": "invalid event",
            "message": "Event object is invalid",
            "errors": ["Invalid routing key"],
        }
    assert await world.alerts() == []
    assert await world.change_events() == []
    assert await world.inbound_events() == []


async def test_a_malformed_body_is_400_naming_the_field_and_logged_as_rejected(
    client: httpx.AsyncClient, seed: Seed, world: Records
) -> None:
    team = await crew(seed)
    _, key = await seed.integration(team.service, kind="alertmanager")
    response = await client.post(
        f"/ingest/{key}", json=example("alertmanager", "missing_fingerprint")
    )
    assert response.status_code == 400
    assert response.json()["type"] == "/problems/malformed-payload"
    assert response.json()["field"] == "alerts[0].fingerprint"
    [logged] = await world.inbound_events()
    assert (logged.outcome.value, logged.http_status) == ("rejected", 400)
    assert await world.incidents() == []


async def test_a_body_that_is_not_json_is_400_not_500(
    client: httpx.AsyncClient, seed: Seed, world: Records
) -> None:
    team = await crew(seed)
    for kind in ("generic", "alertmanager", "grafana", "datadog", "newrelic"):
        _, key = await seed.integration(team.service, kind=kind)
        for body in (b"{", b"\xff\xfe", b"", b"null", b"[]", b'"text"'):
            response = await client.post(f"/ingest/{key}", content=body, headers=JSON)
            assert response.status_code in (400, 202), (kind, body, response.text)
    assert await world.incidents() == []


# Rate limits


def limited_app(settings: Settings, database: Database, clock: FrozenClock) -> httpx.AsyncClient:
    """The app with a limit of 6 events a minute per integration: bursts of 10, then one
    every 10 seconds."""
    app = create_app(
        settings=settings.model_copy(update={"ingest_rate_per_minute": 6}),
        clock=clock,
        database=database,
        secret=SECRET,
    )
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE_URL)


async def test_an_integration_over_its_rate_limit_gets_429_with_retry_after(
    seed: Seed, settings: Settings, database: Database, clock: FrozenClock, world: Records
) -> None:
    team = await crew(seed)
    _, key = await seed.integration(team.service)
    async with limited_app(settings, database, clock) as limited:
        accepted = [await send(limited, key, trigger(f"k{n}")) for n in range(10)]
        assert {response.status_code for response in accepted} == {202}
        refused = await send(limited, key, trigger("k10"))
        assert refused.status_code == 429
        assert refused.json()["type"] == "/problems/rate-limited"
        assert refused.headers["retry-after"] == "10"
        assert len(await world.incidents()) == 10

        clock.advance(seconds=10)
        assert (await send(limited, key, trigger("k10"))).status_code == 202
        assert (await send(limited, key, trigger("k11"))).status_code == 429


async def test_the_rate_limit_is_per_integration(
    seed: Seed, settings: Settings, database: Database, clock: FrozenClock
) -> None:
    team = await crew(seed)
    _, busy = await seed.integration(team.service)
    _, quiet = await seed.integration(team.service)
    async with limited_app(settings, database, clock) as limited:
        for n in range(11):
            await send(limited, busy, trigger(f"k{n}"))
        assert (await send(limited, busy, trigger("again"))).status_code == 429
        assert (await send(limited, quiet, trigger("k0"))).status_code == 202


async def test_the_rate_limit_holds_across_processes(
    seed: Seed, settings: Settings, database: Database, clock: FrozenClock, world: Records
) -> None:
    """Two apps (two ``tocsin serve`` processes, each with its own pool) on one database
    share one bucket: sending to both in turn admits one burst, not one per process."""
    team = await crew(seed)
    _, key = await seed.integration(team.service)
    other = Database(database.url, pool_size=2, max_overflow=0)
    try:
        async with (
            limited_app(settings, database, clock) as first,
            limited_app(settings, other, clock) as second,
        ):
            answers = [await send((first, second)[n % 2], key, trigger(f"k{n}")) for n in range(20)]
            assert [a.status_code for a in answers] == [202] * 10 + [429] * 10
            clock.advance(seconds=10)
            assert (await send(second, key, trigger("k20"))).status_code == 202
            assert (await send(first, key, trigger("k21"))).status_code == 429
        assert len(await world.incidents()) == 11
    finally:
        await other.dispose()


async def test_a_throttled_pagerduty_event_gets_pagerduty_429(
    seed: Seed, settings: Settings, database: Database, clock: FrozenClock
) -> None:
    team = await crew(seed)
    _, key = await seed.integration(team.service, kind="pagerduty_events_v2")
    event = {**example("pagerduty_events_v2", "trigger"), "routing_key": key}
    async with limited_app(settings, database, clock) as limited:
        for _ in range(10):
            await limited.post("/v2/enqueue", json=event)
        throttled = await limited.post("/v2/enqueue", json=event)
    assert throttled.status_code == 429
    assert throttled.json()["status"] == "throttle event"
    assert throttled.headers["retry-after"] == "10"


# The database is unreachable


@pytest.fixture
async def unreachable(tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    settings = IsolatedSettings(database_url=UNREACHABLE, data_dir=tmp_path, secret_key="k" * 32)
    database = Database(UNREACHABLE, pool_size=1, max_overflow=0)
    app = create_app(settings=settings, clock=FrozenClock(), database=database, secret=SECRET)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url=BASE_URL
    ) as client:
        yield client
    await database.dispose()


async def test_with_the_database_unreachable_intake_answers_503_with_retry_after(
    unreachable: httpx.AsyncClient,
) -> None:
    body = trigger("db-1/disk")
    pagerduty = {**example("pagerduty_events_v2", "trigger"), "routing_key": "tik_x"}
    for response in (
        await unreachable.post("/ingest/tik_x", json=body),
        await unreachable.post("/ingest", json=body, headers={"X-Tocsin-Integration-Key": "k"}),
        await unreachable.get("/ingest/tik_x"),
        await unreachable.post("/v2/enqueue", json=pagerduty),
        await unreachable.post("/v2/change/enqueue", json=pagerduty),
        await unreachable.post(
            "/v2/alerts", json={"message": "x"}, headers={"Authorization": "GenieKey k"}
        ),
    ):
        assert response.status_code == 503, (response.request.url, response.text)
        assert int(response.headers["retry-after"]) > 0
        if response.request.url.path.startswith(("/v2/enqueue", "/v2/change/enqueue")):
            # PagerDuty's clients read PagerDuty's error body, whatever the error.
            assert response.json() == {
                "status": "Service unavailable",
                "message": "the database is unreachable",
                "errors": ["the database is unreachable"],
            }
        else:
            assert response.json()["type"] == "/problems/service-unavailable"


# Integrations that are signed or disabled


async def test_a_signed_integration_takes_no_events_on_routes_that_cannot_verify_them(
    client: httpx.AsyncClient, seed: Seed, world: Records
) -> None:
    team = await crew(seed)
    _, key = await seed.integration(team.service, signing=True)
    pagerduty = {**example("pagerduty_events_v2", "trigger"), "routing_key": key}
    refused = [
        await client.post("/v2/enqueue", json=pagerduty),
        await client.post(
            "/v2/change/enqueue",
            json={**example("pagerduty_events_v2", "change_event"), "routing_key": key},
        ),
        await client.post(
            "/v2/alerts",
            json=example("opsgenie", "create"),
            headers={"Authorization": f"GenieKey {key}"},
        ),
    ]
    # Only generic and Grafana integrations can be signed, and these routes take only
    # PagerDuty's or Opsgenie's keys: a signed integration's key is an unknown one there.
    assert [response.status_code for response in refused] == [400, 400, 401], [
        response.text for response in refused
    ]
    assert await world.incidents() == []
    assert await world.change_events() == []


async def test_a_disabled_integration_is_answered_as_an_unknown_key(
    client: httpx.AsyncClient, seed: Seed, world: Records
) -> None:
    team = await crew(seed)
    integration, key = await seed.integration(team.service)
    async with seed.database.transaction() as session:
        await integrations.update_integration(
            session,
            actor=system_actor("test seed"),
            cipher=seed.cipher,
            integration_id=integration.id,
            changes=integrations.IntegrationChanges(is_enabled=False),
            now=seed.clock.now(),
        )
    response = await send(client, key, trigger("db-1/disk"))
    assert response.status_code == 404
    assert await world.incidents() == []


# Bodies that once answered 500: refused in the path's own shape, naming the field, or
# stored with what PostgreSQL cannot hold replaced


def with_raw(body: dict[str, Any], raw: str, at: str = "extra") -> bytes:
    """``body`` with ``raw`` JSON text (which ``json.dumps`` would refuse to write) at ``at``."""
    return json.dumps({**body, at: "__raw__"}).replace('"__raw__"', raw).encode()


async def refused_everywhere(
    client: httpx.AsyncClient, paths: list[IntakePath], raw: str
) -> dict[str, tuple[int, str]]:
    """(status, field named) per path, for each path's valid body carrying ``raw``."""
    answers = {}
    for path in paths:
        response = await path.post(client, with_raw(path.body, raw))
        refused = response.status_code >= 400
        field = path.refused_field(response).split(":")[0] if refused else response.text
        answers[path.name] = (response.status_code, field)
    return answers


async def test_json_nested_too_deep_is_refused_on_every_intake_path_naming_the_field(
    client: httpx.AsyncClient, seed: Seed, world: Records
) -> None:
    team = await crew(seed)
    paths = await intake_paths(seed, team.service)
    # The container at level 65 is named: the body is level 1, "extra" level 2.
    deepest = "extra" + "[0]" * 63
    # 65 levels is the parsed value's walk, 10,000 the scan after the parser gives up.
    for levels in (65, 10_000):
        answers = await refused_everywhere(client, paths, "[" * levels + "]" * levels)
        assert answers == {path.name: (400, deepest) for path in paths}, levels
    assert await world.alerts() == []
    assert await world.change_events() == []
    assert all(event.outcome.value == "rejected" for event in await world.inbound_events())


async def test_a_number_too_long_or_out_of_range_is_refused_on_every_intake_path(
    client: httpx.AsyncClient, seed: Seed, world: Records
) -> None:
    team = await crew(seed)
    paths = await intake_paths(seed, team.service)
    for number in ("9" * 5000, "-" + "1" * 100, "0." + "5" * 200, "1e999", "NaN", "-Infinity"):
        answers = await refused_everywhere(client, paths, f'{{"value": [1, {number}]}}')
        assert answers == {path.name: (400, "extra.value[1]") for path in paths}, number
    assert await world.alerts() == []
    assert await world.change_events() == []


NUL_AND_SURROGATES = (
    b'{"title": "Disk full\\u0000 on db-1\\ud800", "dedup_key": "db-1/\\udc00disk",'
    b' "labels": {"team\\u0000": "dba\\ud83d"}, "details": {"raw": "a\x00b\xed\xa0\x80c"}}'
)


async def test_nul_and_lone_surrogates_are_stored_replaced_not_refused(
    client: httpx.AsyncClient, seed: Seed, world: Records
) -> None:
    team = await crew(seed)
    _, key = await seed.integration(team.service)
    response = await client.post(f"/ingest/{key}", content=NUL_AND_SURROGATES, headers=JSON)
    assert response.status_code == 202, response.text
    assert response.json()["results"][0]["dedup_key"] == "db-1/\ufffddisk"
    alert = await world.alert("db-1/\ufffddisk")
    assert alert.title == "Disk full\ufffd on db-1\ufffd"
    assert alert.labels == {"team\ufffd": "dba\ufffd"}
    # A raw NUL byte is kept replaced; bytes that are not UTF-8 (ED A0 80 encodes a lone
    # surrogate) become one U+FFFD each.
    assert alert.details["raw"] == "a\ufffdb\ufffd\ufffd\ufffdc"
    [logged] = await world.inbound_events()
    assert logged.outcome.value == "applied"
    assert "\x00" not in logged.body
    assert logged.body.startswith('{"title": "Disk full\\u0000')


async def test_nul_in_a_pagerduty_event_is_stored_replaced(
    client: httpx.AsyncClient, seed: Seed, world: Records
) -> None:
    team = await crew(seed)
    _, key = await seed.integration(team.service, kind="pagerduty_events_v2")
    event = example("pagerduty_events_v2", "trigger")
    event["payload"]["summary"] = "DISK at 99%\u0000"
    event["payload"]["custom_details"] = {"note\u0000": "\ud800"}
    body = json.dumps({**event, "routing_key": key}).encode()  # escapes the lone surrogate
    response = await client.post("/v2/enqueue", content=body, headers=JSON)
    assert response.status_code == 202, response.text
    incident = await world.incident()
    assert incident.title == "DISK at 99%\ufffd"
    assert (await world.alert("srv01/mysql")).details["custom_details"] == {"note\ufffd": "\ufffd"}


async def test_a_signed_request_with_a_timestamp_past_year_9999_is_refused_as_expired(
    client: httpx.AsyncClient, seed: Seed, world: Records
) -> None:
    team = await crew(seed)
    integration, key = await seed.integration(team.service, signing=True)
    secret = signatures.decode_secret(seed.signing_secret(integration))
    body = json.dumps(example("generic", "trigger")).encode()
    stamp = "999999999999"  # the year 33658: no datetime holds it
    mac = hmac.new(secret, f"msg_1.{stamp}.".encode() + body, hashlib.sha256).digest()
    headers = {
        **JSON,
        "webhook-id": "msg_1",
        "webhook-timestamp": stamp,
        "webhook-signature": "v1," + base64.b64encode(mac).decode(),
    }
    response = await client.post(f"/ingest/{key}", content=body, headers=headers)
    assert response.status_code == 401, response.text
    assert response.json()["type"] == "/problems/signature-expired"
    assert await world.alerts() == []
