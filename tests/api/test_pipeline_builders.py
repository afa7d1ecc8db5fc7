"""The seed builders of the alert pipeline's configuration, and the trusted interfaces the
pipeline and engine read it through (snapshots, keys, routing rules, maintenance)."""

from __future__ import annotations

from datetime import timedelta

from tests.builders import Seed
from tocsin.actions.escalation import policies
from tocsin.actions.intake import lookups
from tocsin.db.executors import OnSession
from tocsin.domain import routing
from tocsin.domain.access import TeamRole
from tocsin.domain.escalation import TargetKind
from tocsin.ingest import signatures


async def test_policy_builder_writes_levels_in_order_and_snapshot_reads_them(seed: Seed) -> None:
    alice, bob = await seed.user("Alice"), await seed.user("Bob")
    team = await seed.team(members=[(alice, TeamRole.RESPONDER), (bob, TeamRole.ADMIN)])
    policy = await seed.policy(team, levels=[(5, [bob, alice]), (10, [team])], repeat_count=2)
    async with seed.database.transaction() as session:
        snapshot = await policies.load_snapshot(session, policy.id)
    assert snapshot.policy_id == policy.id
    assert snapshot.repeat_count == 2
    assert [level.delay_minutes for level in snapshot.levels] == [5, 10]
    assert [target.id for target in snapshot.levels[0].targets] == [bob.id, alice.id]
    assert snapshot.levels[1].targets[0].kind is TargetKind.TEAM


async def test_integration_builder_returns_a_key_the_intake_finds(seed: Seed) -> None:
    team = await seed.team()
    service = await seed.service(team, policy=None, ack_timeout_minutes=30)
    integration, key = await seed.integration(
        service, kind="alertmanager", grouping_fields=("labels.alertname",)
    )
    assert key.startswith("tik_")
    async with seed.database.transaction() as session:
        found = await lookups.integration_for_key(OnSession(session), key)
        missing = await lookups.integration_for_key(OnSession(session), key + "x")
        rules = await lookups.routing_rules(OnSession(session), integration.id)
    assert found is not None
    assert found.id == integration.id
    assert found.grouping_fields == ("labels.alertname",)
    assert missing is None
    assert rules == []


async def test_routed_and_signed_integrations_from_the_builder(seed: Seed) -> None:
    team = await seed.team()
    fallback, eu = await seed.service(team), await seed.service(team)
    integration, _ = await seed.integration(
        fallback, signing=True, routes=[(eu, [("labels.region", "equals", "eu")])]
    )
    assert integration.service_id is None
    assert integration.fallback_service_id == fallback.id
    secret = seed.signing_secret(integration)
    assert len(signatures.decode_secret(secret)) >= signatures.SECRET_MIN_BYTES
    async with seed.database.transaction() as session:
        rules = await lookups.routing_rules(OnSession(session), integration.id)
    assert rules == [
        routing.Rule(eu.id, (routing.Condition("labels.region", routing.Operator.EQUALS, "eu"),))
    ]


async def test_a_heartbeat_from_the_builder_waits_for_its_first_ping(seed: Seed) -> None:
    service = await seed.service(await seed.team())
    heartbeat, _ = await seed.integration(service, kind="heartbeat")
    assert heartbeat.heartbeat_interval_minutes == 5
    assert heartbeat.heartbeat_state == "waiting"
    assert heartbeat.heartbeat_expires_at is None
    assert seed.clock.now() - heartbeat.created_at == timedelta(0)
