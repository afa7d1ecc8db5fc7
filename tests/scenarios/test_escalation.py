"""Escalation, one behaviour per test: seed, send an alert, move the clock, tick, look."""

from __future__ import annotations

import httpx
import pytest

from tests.builders import Seed
from tests.scenarios.conftest import World, send, trigger
from tocsin.clock import FrozenClock
from tocsin.domain.access import TeamRole
from tocsin.engine.loop import Engine


@pytest.fixture
async def setup(seed: Seed) -> dict[str, object]:
    alice = await seed.user("Alice")
    bob = await seed.user("Bob")
    carol = await seed.user("Carol")
    team = await seed.team(
        "Payments",
        [(alice, TeamRole.RESPONDER), (bob, TeamRole.RESPONDER), (carol, TeamRole.ADMIN)],
    )
    policy = await seed.policy(team, [(5, [alice]), (10, [bob])])
    service = await seed.service(team, policy)
    _, key = await seed.integration(service)
    return {
        "alice": alice,
        "bob": bob,
        "carol": carol,
        "team": team,
        "service": service,
        "key": key,
        "policy": policy,
    }


async def test_a_new_incident_pages_level_1_at_once(
    client: httpx.AsyncClient, setup: dict[str, object], engine: Engine, world: World
) -> None:
    response = await send(client, str(setup["key"]), trigger("db-1/disk"))
    assert response.status_code == 202, response.text
    assert response.json()["results"][0]["result"] == "created"
    await engine.tick()
    assert await world.pages() == [("Alice", 1, 0)]
    incident = await world.incident()
    assert incident.number == response.json()["results"][0]["incident_number"]
    actions = [action for action, _ in await world.timeline(incident)]
    assert actions == ["incident.triggered", "alert.received", "incident.paged"]


async def test_level_2_is_paged_after_exactly_the_wait_of_level_1(
    client: httpx.AsyncClient,
    setup: dict[str, object],
    engine: Engine,
    world: World,
    clock: FrozenClock,
) -> None:
    await send(client, str(setup["key"]), trigger("db-1/disk"))
    await engine.tick()
    clock.advance(minutes=4, seconds=59)
    await engine.tick()
    assert await world.pages() == [("Alice", 1, 0)]
    clock.advance(seconds=1)
    await engine.tick()
    assert await world.pages() == [("Alice", 1, 0), ("Bob", 2, 0)]
    _, details = (await world.timeline(await world.incident()))[-1]
    assert details["level"] == 2


async def test_acknowledging_stops_the_escalation(
    client: httpx.AsyncClient,
    setup: dict[str, object],
    engine: Engine,
    world: World,
    clock: FrozenClock,
    seed: Seed,
) -> None:
    await send(client, str(setup["key"]), trigger("db-1/disk"))
    await engine.tick()
    incident = await world.incident()
    alice_client = await seed.as_user(setup["alice"])  # type: ignore[arg-type]
    acked = await alice_client.post(f"/api/v1/incidents/{incident.id}/acknowledge")
    assert acked.status_code == 200, acked.text
    assert acked.json()["status"] == "acknowledged"
    assert acked.json()["next_escalation_at"] is None
    clock.advance(hours=2)
    await engine.tick()
    assert await world.pages() == [("Alice", 1, 0)]


async def test_the_policy_repeats_then_is_exhausted(
    client: httpx.AsyncClient, seed: Seed, engine: Engine, world: World, clock: FrozenClock
) -> None:
    alice = await seed.user("Alice")
    bob = await seed.user("Bob")
    team = await seed.team("Ops", [(alice, TeamRole.RESPONDER), (bob, TeamRole.RESPONDER)])
    service = await seed.service(
        team, await seed.policy(team, [(5, [alice]), (5, [bob])], repeat_count=1)
    )
    _, key = await seed.integration(service)
    await send(client, key, trigger("x"))
    for _ in range(6):
        await engine.tick()
        clock.advance(minutes=5)
    assert await world.pages() == [("Alice", 1, 0), ("Bob", 2, 0), ("Alice", 1, 1), ("Bob", 2, 1)]
    incident = await world.incident()
    assert incident.escalation_exhausted_at is not None
    assert incident.next_escalation_at is None
    assert incident.status.value == "triggered"
    assert (await world.timeline(incident))[-1][0] == "escalation.exhausted"


async def test_an_ack_timeout_triggers_the_incident_again(
    client: httpx.AsyncClient, seed: Seed, engine: Engine, world: World, clock: FrozenClock
) -> None:
    alice = await seed.user("Alice")
    team = await seed.team("Ops", [(alice, TeamRole.RESPONDER)])
    service = await seed.service(
        team, await seed.policy(team, [(5, [alice])]), ack_timeout_minutes=30
    )
    _, key = await seed.integration(service)
    await send(client, key, trigger("x"))
    await engine.tick()
    incident = await world.incident()
    alice_client = await seed.as_user(alice)
    await alice_client.post(f"/api/v1/incidents/{incident.id}/acknowledge")
    clock.advance(minutes=29)
    await engine.tick()
    assert (await world.incident()).status.value == "acknowledged"
    clock.advance(minutes=1)
    await engine.tick()
    reopened = await world.incident()
    assert reopened.status.value == "triggered"
    assert await world.pages() == [("Alice", 1, 0), ("Alice", 1, 0)]
    assert (
        "incident.reopened",
        {"reason": "the acknowledgement timed out"},
    ) in await world.timeline(reopened)


async def test_a_snooze_ends_and_escalation_starts_over(
    client: httpx.AsyncClient,
    setup: dict[str, object],
    engine: Engine,
    world: World,
    clock: FrozenClock,
    seed: Seed,
) -> None:
    await send(client, str(setup["key"]), trigger("x"))
    await engine.tick()
    incident = await world.incident()
    carol = await seed.as_user(setup["carol"])  # type: ignore[arg-type]
    snoozed = await carol.post(f"/api/v1/incidents/{incident.id}/snooze", json={"minutes": 60})
    assert snoozed.json()["status"] == "acknowledged"
    assert snoozed.json()["snoozed_until"] is not None
    clock.advance(minutes=59)
    await engine.tick()
    assert await world.pages() == [("Alice", 1, 0)]
    clock.advance(minutes=1)
    await engine.tick()
    assert await world.pages() == [("Alice", 1, 0), ("Alice", 1, 0)]
    assert (await world.incident()).status.value == "triggered"


async def test_reassigning_to_a_person_pages_them_now_and_keeps_escalating_to_them(
    client: httpx.AsyncClient,
    setup: dict[str, object],
    engine: Engine,
    world: World,
    clock: FrozenClock,
    seed: Seed,
) -> None:
    await send(client, str(setup["key"]), trigger("x"))
    await engine.tick()
    incident = await world.incident()
    carol = await seed.as_user(setup["carol"])  # type: ignore[arg-type]
    response = await carol.post(
        f"/api/v1/incidents/{incident.id}/reassign",
        json={"user_id": str(setup["carol"].id)},  # type: ignore[attr-defined]
    )
    assert response.status_code == 200, response.text
    assert await world.pages() == [("Alice", 1, 0), ("Carol", 1, 0)]
    clock.advance(minutes=30)
    await engine.tick()
    assert await world.pages() == [("Alice", 1, 0), ("Carol", 1, 0), ("Carol", 1, 1)]


async def test_reassigning_to_another_policy_restarts_from_its_level_1(
    client: httpx.AsyncClient, setup: dict[str, object], engine: Engine, world: World, seed: Seed
) -> None:
    await send(client, str(setup["key"]), trigger("x"))
    await engine.tick()
    incident = await world.incident()
    other = await seed.policy(setup["team"], [(15, [setup["bob"]])], name="Backup")  # type: ignore[arg-type,list-item]
    carol = await seed.as_user(setup["carol"])  # type: ignore[arg-type]
    acked = await carol.post(f"/api/v1/incidents/{incident.id}/acknowledge")
    assert acked.status_code == 200
    response = await carol.post(
        f"/api/v1/incidents/{incident.id}/reassign", json={"escalation_policy_id": str(other.id)}
    )
    assert response.json()["status"] == "triggered"
    assert await world.pages() == [("Alice", 1, 0), ("Bob", 1, 0)]


async def test_escalating_by_hand_to_the_next_or_a_given_level(
    client: httpx.AsyncClient, setup: dict[str, object], engine: Engine, world: World, seed: Seed
) -> None:
    await send(client, str(setup["key"]), trigger("x"))
    await engine.tick()
    incident = await world.incident()
    carol = await seed.as_user(setup["carol"])  # type: ignore[arg-type]
    assert (await carol.post(f"/api/v1/incidents/{incident.id}/escalate")).status_code == 200
    assert await world.pages() == [("Alice", 1, 0), ("Bob", 2, 0)]
    again = await carol.post(f"/api/v1/incidents/{incident.id}/escalate", json={"level": 1})
    assert again.json()["escalation_level"] == 1
    assert await world.pages() == [("Alice", 1, 0), ("Bob", 2, 0), ("Alice", 1, 0)]
    bad = await carol.post(f"/api/v1/incidents/{incident.id}/escalate", json={"level": 3})
    assert bad.status_code == 422
    assert bad.json()["field"] == "level"


async def test_a_team_target_pages_every_responder_and_admin(
    client: httpx.AsyncClient, seed: Seed, engine: Engine, world: World
) -> None:
    alice, bob, obi = await seed.user("Alice"), await seed.user("Bob"), await seed.user("Obi")
    team = await seed.team(
        "Ops", [(alice, TeamRole.RESPONDER), (bob, TeamRole.ADMIN), (obi, TeamRole.OBSERVER)]
    )
    service = await seed.service(team, await seed.policy(team, [(5, [team, alice])]))
    _, key = await seed.integration(service)
    await send(client, key, trigger("x"))
    await engine.tick()
    assert sorted(await world.pages()) == [("Alice", 1, 0), ("Bob", 1, 0)]


async def test_a_level_that_pages_nobody_is_noted_and_the_next_level_follows_at_once(
    client: httpx.AsyncClient, seed: Seed, engine: Engine, world: World
) -> None:
    alice = await seed.user("Alice")
    team = await seed.team("Ops", [(alice, TeamRole.RESPONDER)])
    gone = await seed.user("Gone")
    empty_team = await seed.team("Nobody home")
    service = await seed.service(
        team, await seed.policy(team, [(5, [empty_team, gone]), (5, [alice])])
    )
    _, key = await seed.integration(service)
    async with seed.database.transaction() as session:
        from tocsin.actions.actors import system_actor  # noqa: PLC0415
        from tocsin.actions.identity import users  # noqa: PLC0415 - test-only shortcut to deactivate

        await users.set_active(
            session, actor=system_actor("test"), user_id=gone.id, active=False, now=seed.clock.now()
        )
    await send(client, key, trigger("x"))
    await engine.tick()
    assert await world.pages() == [("Alice", 2, 0)]
    timeline = await world.timeline(await world.incident())
    level_1 = next(details for action, details in timeline if action == "incident.paged")
    assert level_1["paged"] == []
    assert any("no active responders" in note for note in level_1["notes"])
    assert any("deactivated" in note for note in level_1["notes"])


async def test_a_service_without_a_policy_opens_the_incident_and_says_nobody_is_paged(
    client: httpx.AsyncClient, seed: Seed, engine: Engine, world: World
) -> None:
    team = await seed.team("Ops")
    _, key = await seed.integration(await seed.service(team))
    await send(client, key, trigger("x"))
    await engine.tick()
    incident = await world.incident()
    assert await world.pages() == []
    assert "escalation.none" in [action for action, _ in await world.timeline(incident)]


async def test_every_change_is_a_newer_version_even_at_the_same_instant(
    client: httpx.AsyncClient, setup: dict[str, object], engine: Engine, world: World, seed: Seed
) -> None:
    """Chat and push channels refresh what they showed when ``updated_at`` moves on. Each
    escalation by hand is a newer version, and the escalation step written with it does
    not set it back (the clock is frozen here, as two requests in one microsecond)."""
    await send(client, str(setup["key"]), trigger("x"))
    await engine.tick()
    carol = await seed.as_user(setup["carol"])  # type: ignore[arg-type]
    incident = await world.incident()
    versions = [incident.updated_at]
    for body in ({}, {"level": 1}, {}):
        answer = await carol.post(f"/api/v1/incidents/{incident.id}/escalate", json=body)
        assert answer.status_code == 200
        versions.append((await world.incident()).updated_at)
    assert versions == sorted(set(versions)), versions
