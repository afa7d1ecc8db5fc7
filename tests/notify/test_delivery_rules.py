"""Retries, tiers, failover and the operations path, on scripted providers."""

from __future__ import annotations

import httpx
import pytest
from fastapi import FastAPI

from tests.builders import Seed
from tests.fakes.providers import ScriptedEmail, permanent, transient
from tests.notify.conftest import Deliveries, Oncall, sending_engine
from tests.scenarios.conftest import World, send, trigger
from tocsin.actions.notify import outcomes, tiers
from tocsin.clock import FrozenClock
from tocsin.config import Settings
from tocsin.db.session import Database
from tocsin.domain.access import TeamRole
from tocsin.domain.channels import ChannelKind
from tocsin.engine.loop import Engine
from tocsin.notify import notifier as notify
from tocsin.notify.channels.email.channel import EmailChannel


def engine_with(
    app: FastAPI,
    settings: Settings,
    database: Database,
    clock: FrozenClock,
    *providers: ScriptedEmail,
) -> Engine:
    channel = EmailChannel(list(providers), sender="tocsin@tocsin.test")
    built = notify.build(settings, database, clock, channels={ChannelKind.EMAIL: channel})
    return sending_engine(app, database, clock, built)


async def test_a_transient_error_is_retried_after_30s_1_2_and_4_minutes(
    app: FastAPI,
    settings: Settings,
    database: Database,
    clock: FrozenClock,
    client: httpx.AsyncClient,
    oncall: Oncall,
    deliveries: Deliveries,
) -> None:
    provider = ScriptedEmail("scripted", *(transient() for _ in range(4)))
    engine = engine_with(app, settings, database, clock, provider)
    await send(client, oncall.key, trigger("x"))
    await engine.tick()

    def to_alice() -> list[str]:
        return [m.message_id for m in provider.calls if m.recipient == "alice@example.com"]

    assert len(to_alice()) == 1
    for wait_seconds, calls in ((30, 2), (60, 3), (120, 4), (240, 5)):
        clock.advance(seconds=wait_seconds - 1)
        await engine.tick()
        assert len(to_alice()) == calls - 1, f"too early at {wait_seconds}s"
        clock.advance(seconds=1)
        await engine.tick()
        assert len(to_alice()) == calls
    delivery = next(d for d in await deliveries.all() if d.user_id == oncall.alice.id)
    assert delivery.status.value == "sent"
    assert delivery.attempts == 5
    # Every attempt is the same message: one Message-ID.
    assert len(set(to_alice())) == 1


async def test_a_permanent_error_fails_at_once_and_the_next_tier_is_released(
    app: FastAPI,
    settings: Settings,
    database: Database,
    clock: FrozenClock,
    client: httpx.AsyncClient,
    oncall: Oncall,
    deliveries: Deliveries,
    world: World,
) -> None:
    provider = ScriptedEmail("scripted", permanent())
    engine = engine_with(app, settings, database, clock, provider)
    await send(client, oncall.key, trigger("x"))
    await engine.tick()
    clock.advance(hours=1)
    await engine.tick()
    (delivery,) = [d for d in await deliveries.all() if d.user_id == oncall.alice.id]
    assert delivery.status.value == "failed"
    assert delivery.attempts == 1
    assert delivery.error_code == "invalid_address"
    timeline = [action for action, _ in await world.timeline(await world.incident())]
    assert "notification.failed" in timeline
    assert "notification.unreachable" in timeline


async def test_every_channel_failing_opens_an_incident_on_the_operations_service(
    app: FastAPI,
    settings: Settings,
    database: Database,
    clock: FrozenClock,
    client: httpx.AsyncClient,
    seed: Seed,
    world: World,
) -> None:
    alice = await seed.user("Alice", email="alice@example.com")
    oscar = await seed.user("Oscar", email="oscar@example.com")
    team = await seed.team("Payments", [(alice, TeamRole.RESPONDER)])
    ops_team = await seed.team("Ops", [(oscar, TeamRole.RESPONDER)])
    service = await seed.service(team, await seed.policy(team, [(30, [alice])]), name="payments")
    await seed.service(ops_team, await seed.policy(ops_team, [(30, [oscar])]), name="tocsin-ops")
    _, key = await seed.integration(service)
    provider = ScriptedEmail("scripted", permanent())
    engine = engine_with(
        app,
        settings.model_copy(update={"operations_service": "tocsin-ops"}),
        database,
        clock,
        provider,
    )
    await send(client, key, trigger("x", title="Payments down"))
    await engine.tick()
    await engine.tick()
    incidents = await world.incidents()
    assert len(incidents) == 2
    ops = incidents[1]
    assert ops.title == "tocsin could not reach Alice"
    assert "Payments down" in ops.description
    assert ("Oscar", 1, 0) in await world.pages(ops)
    # Oscar's page went out on the same (now working) provider.
    assert [m.recipient for m in provider.calls] == ["alice@example.com", "oscar@example.com"]
    metrics = (await client.get("/metrics")).text
    assert "tocsin_operations_incidents_total 1.0" in metrics


@pytest.mark.parametrize("failures", [1, 3])
async def test_a_failing_provider_fails_over_to_the_next_and_opens_its_circuit(
    app: FastAPI,
    settings: Settings,
    database: Database,
    clock: FrozenClock,
    client: httpx.AsyncClient,
    seed: Seed,
    failures: int,
) -> None:
    alice = await seed.user("Alice", email="alice@example.com")
    team = await seed.team("Payments", [(alice, TeamRole.RESPONDER)])
    service = await seed.service(team, await seed.policy(team, [(30, [alice])]))
    _, key = await seed.integration(service)
    primary = ScriptedEmail("primary", *(transient() for _ in range(failures)))
    backup = ScriptedEmail("backup")
    unbundled = settings.model_copy(update={"notify_bundle_threshold": 0})
    engine = engine_with(app, unbundled, database, clock, primary, backup)
    for number in range(failures):
        await send(client, key, trigger(f"alert-{number}"))
        await engine.tick()
    assert len(primary.calls) == failures
    assert len(backup.calls) == failures  # each attempt failed over at once
    await send(client, key, trigger("after"))
    await engine.tick()
    # Three consecutive failures open the primary's circuit: the next mail skips it.
    assert len(primary.calls) == (failures + 1 if failures < 3 else failures)
    clock.advance(seconds=61)
    await send(client, key, trigger("probe"))
    await engine.tick()
    assert len(primary.calls) == (failures + 2 if failures < 3 else failures + 1)


async def test_a_late_failure_report_fails_a_sent_delivery_and_is_acted_on(
    app: FastAPI,
    settings: Settings,
    database: Database,
    clock: FrozenClock,
    client: httpx.AsyncClient,
    oncall: Oncall,
    deliveries: Deliveries,
    world: World,
) -> None:
    provider = ScriptedEmail("scripted")
    engine = engine_with(app, settings, database, clock, provider)
    await send(client, oncall.key, trigger("x"))
    await engine.tick()
    (sent,) = await deliveries.all()
    assert sent.status.value == "sent"
    assert sent.provider_message_id is not None
    async with database.transaction() as session:
        pages = await outcomes.apply_status(
            session,
            provider="scripted",
            provider_message_id=sent.provider_message_id,
            delivered=False,
            error="bounced: mailbox full",
            now=clock.now(),
        )
        await tiers.after_final(
            session,
            pages,
            ops=tiers.OpsPolicy(None),
            now=clock.now(),
            outcomes=tiers.Outcomes(),
        )
    (failed,) = await deliveries.all()
    assert failed.status.value == "failed"
    assert failed.error_detail == "bounced: mailbox full"
    actions = [action for action, _ in await world.timeline(await world.incident())]
    assert actions[-2:] == ["notification.failed", "notification.unreachable"]
