"""Integrations over HTTP: keys shown once and stored hashed, ready-to-paste endpoints,
signing secrets stored encrypted, rotation, routing and grouping validation, and who may
manage an integration (admins of every team it sends to)."""

from __future__ import annotations

import hashlib
import uuid
from datetime import UTC
from typing import Any

import httpx
import sqlalchemy as sa
from standardwebhooks import Webhook

from tests.builders import SECRET, Seed
from tocsin.actions.actors import system_actor
from tocsin.actions.identity import teams
from tocsin.db.models.integrations import Integration
from tocsin.db.models.services import Service
from tocsin.domain.access import Scope, TeamRole
from tocsin.ingest import signatures
from tocsin.security.encryption import Cipher


async def _admin_and_service(
    seed: Seed, team_name: str = "Payments"
) -> tuple[httpx.AsyncClient, Service]:
    admin = await seed.user(f"{team_name} Admin")
    team = await seed.team(team_name, [(admin, TeamRole.ADMIN)])
    return await seed.as_user(admin), await seed.service(team, name=f"{team_name} API")


async def _create(client: httpx.AsyncClient, **fields: Any) -> dict[str, Any]:
    response = await client.post("/api/v1/integrations", json=fields)
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


async def _stored(seed: Seed, integration_id: str) -> Integration:
    async with seed.database.transaction() as session:
        row = await session.get(Integration, uuid.UUID(integration_id))
    assert row is not None
    return row


async def test_the_key_is_shown_once_with_its_urls_and_stored_as_sha256(
    seed: Seed, client: httpx.AsyncClient
) -> None:
    admin, service = await _admin_and_service(seed)
    created = await _create(
        admin, name="Prometheus", kind="alertmanager", service_id=str(service.id)
    )
    key = created["key"]
    assert key.startswith("tik_")
    assert len(key) >= 4 + 43  # 32 random bytes, url-safe base64
    assert created["key_prefix"] == key[:10]
    assert created["endpoints"] == [
        {
            "method": "POST",
            "url": f"https://tocsin.test/ingest/{key}",
            "description": "send alerts here; the key in the URL names the integration",
            "headers": {},
            "body_fields": {},
        }
    ]
    assert created["signing"] is False
    assert created["signing_secret"] is None

    read = (await admin.get(f"/api/v1/integrations/{created['id']}")).json()
    assert "key" not in read
    assert "endpoints" not in read
    assert key not in str(read)
    stored = await _stored(seed, created["id"])
    assert stored.key_hash == hashlib.sha256(key.encode()).hexdigest()
    assert key not in (stored.key_hash, stored.key_prefix)

    alert = {"alerts": [{"status": "firing", "labels": {"alertname": "Down"}, "fingerprint": "f1"}]}
    assert (await client.post(f"/ingest/{key}", json=alert)).status_code == 202


async def test_pagerduty_and_opsgenie_get_their_own_urls_too(seed: Seed) -> None:
    admin, service = await _admin_and_service(seed)
    pagerduty = await _create(
        admin, name="PD", kind="pagerduty_events_v2", service_id=str(service.id)
    )
    urls = [(e["url"], e["body_fields"], e["headers"]) for e in pagerduty["endpoints"]]
    assert urls[1] == ("https://tocsin.test/v2/enqueue", {"routing_key": pagerduty["key"]}, {})
    opsgenie = await _create(admin, name="OG", kind="opsgenie", service_id=str(service.id))
    urls = [(e["url"], e["body_fields"], e["headers"]) for e in opsgenie["endpoints"]]
    assert urls[0][0] == f"https://tocsin.test/ingest/{opsgenie['key']}"
    assert urls[1] == (
        "https://tocsin.test/v2/alerts",
        {},
        {"Authorization": f"GenieKey {opsgenie['key']}"},
    )


async def test_a_generic_signing_secret_is_standard_webhooks_and_stored_encrypted(
    seed: Seed, client: httpx.AsyncClient
) -> None:
    admin, service = await _admin_and_service(seed)
    created = await _create(
        admin, name="Scripts", kind="generic", service_id=str(service.id), signing=True
    )
    secret = created["signing_secret"]
    assert secret.startswith("whsec_")
    assert len(signatures.decode_secret(secret)) >= 24
    stored = await _stored(seed, created["id"])
    assert stored.signing_secret_encrypted is not None
    assert secret not in stored.signing_secret_encrypted
    assert Cipher(SECRET).decrypt(stored.signing_secret_encrypted) == secret
    read = (await admin.get(f"/api/v1/integrations/{created['id']}")).json()
    assert read["signing"] is True
    assert secret not in str(read)

    # The secret works end to end: what the reference signer signs, the intake accepts.
    body = b'{"title": "disk full"}'
    headers = Webhook(secret).sign("msg_1", seed.clock.now().astimezone(UTC), body.decode())
    signed = await client.post(
        f"/ingest/{created['key']}",
        content=body,
        headers={
            "content-type": "application/json",
            "webhook-id": "msg_1",
            "webhook-timestamp": str(int(seed.clock.now().timestamp())),
            "webhook-signature": headers,
        },
    )
    assert signed.status_code == 202, signed.text
    unsigned = await client.post(f"/ingest/{created['key']}", content=body)
    assert unsigned.status_code == 401


async def test_grafana_secrets_and_who_can_be_signed(seed: Seed) -> None:
    admin, service = await _admin_and_service(seed)
    grafana = await _create(
        admin, name="Grafana", kind="grafana", service_id=str(service.id), signing=True
    )
    assert len(grafana["signing_secret"]) >= 32
    stored = await _stored(seed, grafana["id"])
    assert stored.signing_secret_encrypted is not None
    assert Cipher(SECRET).decrypt(stored.signing_secret_encrypted) == grafana["signing_secret"]
    refused = await admin.post(
        "/api/v1/integrations",
        json={"name": "AM", "kind": "alertmanager", "service_id": str(service.id), "signing": True},
    )
    assert refused.status_code == 422
    assert refused.json()["field"] == "signing"


async def test_rotating_the_key_retires_the_old_one(seed: Seed, client: httpx.AsyncClient) -> None:
    admin, service = await _admin_and_service(seed)
    integration, old_key = await seed.integration(service, kind="generic")
    rotated = await admin.post(f"/api/v1/integrations/{integration.id}/rotate-key")
    assert rotated.status_code == 200, rotated.text
    new_key = rotated.json()["key"]
    assert new_key != old_key
    assert rotated.json()["key_prefix"] == new_key[:10]
    assert rotated.json()["endpoints"][0]["url"] == f"https://tocsin.test/ingest/{new_key}"
    assert (await client.post(f"/ingest/{old_key}", json={"title": "x"})).status_code == 404
    assert (await client.post(f"/ingest/{new_key}", json={"title": "x"})).status_code == 202
    events = await admin.get(
        "/api/v1/audit-events",
        params={"team_id": str(service.team_id), "action": "integration.key_rotated"},
    )
    [event] = events.json()["items"]
    assert event["resource_id"] == str(integration.id)
    assert event["details"]["to_prefix"] == new_key[:10]
    assert new_key not in str(event)
    assert old_key not in str(event)


async def test_routing_rules_with_a_fallback_round_trip(seed: Seed) -> None:
    admin_user = await seed.user("Ada")
    team = await seed.team("Payments", [(admin_user, TeamRole.ADMIN)])
    admin = await seed.as_user(admin_user)
    fallback, eu = await seed.service(team, name="World"), await seed.service(team, name="EU")
    rules = [
        {
            "service_id": str(eu.id),
            "conditions": [
                {"field": "labels.region", "operator": "equals", "value": "eu"},
                {"field": "title", "operator": "matches", "value": "^disk"},
            ],
        }
    ]
    created = await _create(
        admin,
        name="Global",
        kind="alertmanager",
        routing_rules=rules,
        fallback_service_id=str(fallback.id),
        grouping={"fields": ["labels.alertname", "source"], "window_minutes": 30},
    )
    assert created["routing_rules"] == rules
    assert created["service_id"] is None
    assert created["grouping"] == {"fields": ["labels.alertname", "source"], "window_minutes": 30}
    listed = await admin.get("/api/v1/integrations", params={"service_id": str(eu.id)})
    assert [item["id"] for item in listed.json()["items"]] == [created["id"]]
    by_kind = await admin.get("/api/v1/integrations", params={"kind": "grafana"})
    assert by_kind.json()["items"] == []

    direct = await admin.patch(
        f"/api/v1/integrations/{created['id']}", json={"service_id": str(eu.id)}
    )
    assert direct.status_code == 200, direct.text
    assert direct.json()["routing_rules"] == []
    assert direct.json()["fallback_service_id"] is None
    ungrouped = await admin.patch(
        f"/api/v1/integrations/{created['id']}", json={"grouping": {"fields": []}}
    )
    assert ungrouped.json()["grouping"] == {"fields": [], "window_minutes": None}


async def test_every_invalid_setting_names_its_field(seed: Seed) -> None:
    admin, service = await _admin_and_service(seed)
    sid = str(service.id)

    def rule(*conditions: dict[str, str], service_id: str = sid) -> dict[str, Any]:
        return {"service_id": service_id, "conditions": list(conditions)}

    ok = {"field": "labels.team", "operator": "equals", "value": "a"}
    base: dict[str, Any] = {"name": "I", "kind": "generic"}
    cases: list[tuple[dict[str, Any], str]] = [
        ({**base}, "service_id"),
        ({**base, "service_id": sid, "fallback_service_id": sid}, "service_id"),
        ({**base, "service_id": sid, "routing_rules": [rule(ok)]}, "routing_rules"),
        ({**base, "service_id": str(uuid.uuid4())}, "service_id"),
        ({**base, "fallback_service_id": str(uuid.uuid4())}, "fallback_service_id"),
        (
            {
                **base,
                "fallback_service_id": sid,
                "routing_rules": [rule(ok), rule(ok, service_id=str(uuid.uuid4()))],
            },
            "routing_rules[1].service_id",
        ),
        (
            {**base, "fallback_service_id": sid, "routing_rules": [rule()]},
            "routing_rules[0].conditions",
        ),
        (
            {
                **base,
                "fallback_service_id": sid,
                "routing_rules": [rule(ok, {**ok, "field": "labels."})],
            },
            "routing_rules[0].conditions[1].field",
        ),
        (
            {
                **base,
                "fallback_service_id": sid,
                "routing_rules": [rule({"field": "title", "operator": "matches", "value": "(("})],
            },
            "routing_rules[0].conditions[0].value",
        ),
        (
            {
                **base,
                "fallback_service_id": sid,
                "routing_rules": [rule({**ok, "operator": "like"})],
            },
            "routing_rules[0].conditions[0].operator",
        ),
        ({**base, "service_id": sid, "grouping": {"fields": ["hostname"]}}, "grouping.fields[0]"),
        (
            {**base, "service_id": sid, "grouping": {"fields": ["title", "title"]}},
            "grouping.fields[1]",
        ),
        ({**base, "service_id": sid, "grouping": {"window_minutes": 5}}, "grouping.window_minutes"),
        (
            {**base, "service_id": sid, "grouping": {"fields": ["title"], "window_minutes": 0}},
            "grouping.window_minutes",
        ),
        ({**base, "kind": "heartbeat", "service_id": sid}, "heartbeat_interval_minutes"),
        (
            {**base, "kind": "heartbeat", "service_id": sid, "heartbeat_interval_minutes": 10081},
            "heartbeat_interval_minutes",
        ),
        (
            {**base, "service_id": sid, "heartbeat_interval_minutes": 5},
            "heartbeat_interval_minutes",
        ),
        (
            {
                **base,
                "kind": "heartbeat",
                "fallback_service_id": sid,
                "heartbeat_interval_minutes": 5,
            },
            "service_id",
        ),
        ({**base, "kind": "nagios", "service_id": sid}, "kind"),
        ({**base, "name": " ", "service_id": sid}, "name"),
        ({**base, "service_id": sid, "key": "tik_mine"}, "key"),
    ]
    for body, field in cases:
        response = await admin.post("/api/v1/integrations", json=body)
        assert response.status_code == 422, (field, response.text)
        assert response.json()["field"] == field, (field, response.json())

    await _create(admin, **{**base, "name": "Taken", "service_id": sid})
    duplicate = await admin.post(
        "/api/v1/integrations", json={**base, "name": "TAKEN", "service_id": sid}
    )
    assert duplicate.status_code == 409
    assert duplicate.json()["field"] == "name"


async def test_patching_signing_heartbeats_and_disabling(
    seed: Seed, client: httpx.AsyncClient
) -> None:
    admin, service = await _admin_and_service(seed)
    generic, key = await seed.integration(service, kind="generic")
    signed = await admin.patch(f"/api/v1/integrations/{generic.id}", json={"signing": True})
    secret = signed.json()["signing_secret"]
    assert secret.startswith("whsec_")
    again = await admin.patch(f"/api/v1/integrations/{generic.id}", json={"signing": True})
    assert again.json()["signing_secret"] is None  # already signed: shown only once
    assert seed.signing_secret(await _stored(seed, str(generic.id))) == secret
    unsigned = await admin.patch(f"/api/v1/integrations/{generic.id}", json={"signing": False})
    assert unsigned.json()["signing"] is False
    assert (await _stored(seed, str(generic.id))).signing_secret_encrypted is None

    disabled = await admin.patch(f"/api/v1/integrations/{generic.id}", json={"is_enabled": False})
    assert disabled.json()["is_enabled"] is False
    assert (await client.post(f"/ingest/{key}", json={"title": "x"})).status_code == 404

    heartbeat = await _create(
        admin,
        name="Cron",
        kind="heartbeat",
        service_id=str(service.id),
        heartbeat_interval_minutes=10,
    )
    assert heartbeat["heartbeat_state"] == "waiting"
    assert heartbeat["heartbeat_expires_at"] is None
    assert heartbeat["endpoints"][0]["description"].startswith("ping this URL")
    longer = await admin.patch(
        f"/api/v1/integrations/{heartbeat['id']}", json={"heartbeat_interval_minutes": 60}
    )
    assert longer.json()["heartbeat_interval_minutes"] == 60
    refused = await admin.patch(
        f"/api/v1/integrations/{generic.id}", json={"heartbeat_interval_minutes": 60}
    )
    assert refused.status_code == 422
    assert refused.json()["field"] == "heartbeat_interval_minutes"


async def test_managing_an_integration_takes_admin_rights_in_every_team_it_sends_to(
    seed: Seed,
) -> None:
    payments_admin, payments = await _admin_and_service(seed, "Payments")
    search_admin, search = await _admin_and_service(seed, "Search")
    responder = await seed.user("Rae")
    async with seed.database.transaction() as session:
        await teams.add_member(
            session,
            actor=system_actor("test"),
            team_id=payments.team_id,
            user_id=responder.id,
            role=TeamRole.RESPONDER,
            now=seed.clock.now(),
        )

    foreign = await search_admin.post(
        "/api/v1/integrations",
        json={"name": "X", "kind": "generic", "service_id": str(payments.id)},
    )
    assert foreign.status_code == 403
    as_responder = await seed.as_user(responder)
    assert (
        await as_responder.post(
            "/api/v1/integrations",
            json={"name": "X", "kind": "generic", "service_id": str(payments.id)},
        )
    ).status_code == 403

    shared, _ = await seed.integration(
        payments, name="Shared", routes=[(search, [("labels.team", "equals", "search")])]
    )
    for client in (payments_admin, search_admin, as_responder):
        assert (await client.get(f"/api/v1/integrations/{shared.id}")).status_code == 200
        assert (
            await client.patch(f"/api/v1/integrations/{shared.id}", json={"name": "Mine"})
        ).status_code == 403
        assert (
            await client.post(f"/api/v1/integrations/{shared.id}/rotate-key")
        ).status_code == 403
        assert (await client.delete(f"/api/v1/integrations/{shared.id}")).status_code == 403

    # Taking alerts away from a team needs that team's consent too.
    own, _ = await seed.integration(payments, name="Own")
    steal = await search_admin.patch(
        f"/api/v1/integrations/{own.id}", json={"service_id": str(search.id)}
    )
    assert steal.status_code == 403
    give = await payments_admin.patch(
        f"/api/v1/integrations/{own.id}", json={"service_id": str(search.id)}
    )
    assert give.status_code == 403

    platform = await seed.as_user(await seed.user("Pam", admin=True))
    moved = await platform.patch(
        f"/api/v1/integrations/{own.id}", json={"service_id": str(search.id)}
    )
    assert moved.status_code == 200

    reader = await seed.as_key(Scope.INTEGRATIONS_READ)
    assert (await reader.get("/api/v1/integrations")).status_code == 200
    refused = await reader.delete(f"/api/v1/integrations/{own.id}")
    assert refused.json()["scope"] == "integrations:write"
    writer = await seed.as_key(Scope.INTEGRATIONS_WRITE)
    assert (await writer.delete(f"/api/v1/integrations/{own.id}")).status_code == 204


async def test_changes_are_audited_for_the_team_and_deletes_keep_incidents(
    seed: Seed, client: httpx.AsyncClient
) -> None:
    admin, service = await _admin_and_service(seed)
    created = await _create(admin, name="Scripts", kind="generic", service_id=str(service.id))
    assert (await client.post(f"/ingest/{created['key']}", json={"title": "x"})).status_code == 202
    await admin.patch(f"/api/v1/integrations/{created['id']}", json={"name": "Cron scripts"})
    assert (await admin.delete(f"/api/v1/integrations/{created['id']}")).status_code == 204
    assert (await admin.get(f"/api/v1/integrations/{created['id']}")).status_code == 404
    events = await admin.get(
        "/api/v1/audit-events",
        params={"team_id": str(service.team_id), "resource_type": "integration"},
    )
    assert [item["action"] for item in events.json()["items"]] == [
        "integration.deleted",
        "integration.updated",
        "integration.created",
    ]
    assert created["key"] not in str(events.json())
    async with seed.database.transaction() as session:
        incidents = await session.scalar(sa.text("SELECT count(*) FROM incident"))
    assert incidents == 1
