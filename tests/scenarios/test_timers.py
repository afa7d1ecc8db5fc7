"""Timers of the alert pipeline: auto-resolve, heartbeats and maintenance windows.

Each test freezes the clock, moves it to just before and just after the moment that
matters, and ticks the engine: nothing here sleeps.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest

from tests.builders import Seed
from tests.scenarios.conftest import send, trigger
from tests.scenarios.support import Crew, Records, crew
from tocsin.actions.actors import system_actor
from tocsin.actions.services import maintenance
from tocsin.clock import FrozenClock
from tocsin.db.models.integrations import HeartbeatState, Integration
from tocsin.db.models.services import MaintenanceWindow
from tocsin.db.session import Database
from tocsin.engine.loop import Engine


@pytest.fixture
def world(database: Database) -> Records:
    return Records(database)


# Auto-resolve


async def test_an_incident_without_new_alerts_resolves_after_the_services_auto_resolve_time(
    client: httpx.AsyncClient, seed: Seed, engine: Engine, world: Records, clock: FrozenClock
) -> None:
    team = await crew(seed, auto_resolve_hours=4)
    _, key = await seed.integration(team.service)
    await send(client, key, trigger("db-1/disk"))
    await engine.tick()
    clock.advance(hours=3, minutes=59, seconds=59)
    await engine.tick()
    assert (await world.incident()).status.value == "triggered"
    clock.advance(seconds=1)
    await engine.tick()
    incident = await world.incident()
    assert incident.status.value == "resolved"
    assert incident.resolved_by == "escalation engine"
    assert (await world.alert("db-1/disk")).status.value == "resolved"
    action, details = (await world.timeline(incident))[-1]
    assert action == "incident.resolved"
    assert details["via"] == "auto-resolve"
    assert details["note"] == "no new alert within the service's auto-resolve time"


async def test_a_deduplicated_repeat_counts_as_a_new_alert_for_auto_resolve(
    client: httpx.AsyncClient, seed: Seed, engine: Engine, world: Records, clock: FrozenClock
) -> None:
    team = await crew(seed, auto_resolve_hours=4)
    _, key = await seed.integration(team.service)
    await send(client, key, trigger("db-1/disk"))
    clock.advance(hours=3)
    await send(client, key, trigger("db-1/disk"))
    clock.advance(hours=3, minutes=59)
    await engine.tick()
    assert (await world.incident()).status.value == "triggered"
    clock.advance(minutes=1)
    await engine.tick()
    assert (await world.incident()).status.value == "resolved"


async def test_an_acknowledged_incident_auto_resolves_too(
    client: httpx.AsyncClient, seed: Seed, engine: Engine, world: Records, clock: FrozenClock
) -> None:
    team = await crew(seed, auto_resolve_hours=1)
    _, key = await seed.integration(team.service)
    await send(client, key, trigger("db-1/disk"))
    await engine.tick()
    alice = await seed.as_user(team.alice)
    await alice.post(f"/api/v1/incidents/{(await world.incident()).id}/acknowledge")
    clock.advance(hours=1)
    await engine.tick()
    assert (await world.incident()).status.value == "resolved"


async def test_a_service_without_auto_resolve_keeps_its_incidents_open(
    client: httpx.AsyncClient, seed: Seed, engine: Engine, world: Records, clock: FrozenClock
) -> None:
    team = await crew(seed)
    _, key = await seed.integration(team.service)
    await send(client, key, trigger("db-1/disk"))
    clock.advance(days=30)
    await engine.tick()
    assert (await world.incident()).status.value == "triggered"


# Heartbeats


async def heartbeat(seed: Seed, minutes: int = 5) -> tuple[Crew, Integration, str]:
    team = await crew(seed)
    integration, key = await seed.integration(
        team.service, kind="heartbeat", heartbeat_interval_minutes=minutes, name="Nightly backup"
    )
    return team, integration, key


async def state_of(database: Database, integration: Integration) -> HeartbeatState | None:
    async with database.transaction() as session:
        loaded = await session.get(Integration, integration.id)
        assert loaded is not None
        return loaded.heartbeat_state


async def test_a_heartbeat_waits_for_its_first_ping_before_anything_can_be_missed(
    seed: Seed, engine: Engine, world: Records, clock: FrozenClock, database: Database
) -> None:
    _, integration, _ = await heartbeat(seed)
    clock.advance(days=2)
    await engine.tick()
    assert await world.incidents() == []
    assert await state_of(database, integration) is HeartbeatState.WAITING


async def test_a_missed_ping_opens_an_incident_that_pages(
    client: httpx.AsyncClient, seed: Seed, engine: Engine, world: Records, clock: FrozenClock
) -> None:
    team, _, key = await heartbeat(seed, minutes=5)
    ping = await client.get(f"/ingest/{key}")
    assert ping.status_code == 202, ping.text
    assert ping.json()["status"] == "ping received"
    clock.advance(minutes=4, seconds=59)
    await engine.tick()
    assert await world.incidents() == []
    clock.advance(seconds=1)
    await engine.tick()
    incident = await world.incident()
    assert incident.title == "Heartbeat Nightly backup missed: no ping for 5 minutes"
    assert await world.paged() == [team.alice.name]


async def test_a_heartbeat_that_stays_silent_opens_one_incident_not_one_per_interval(
    client: httpx.AsyncClient, seed: Seed, engine: Engine, world: Records, clock: FrozenClock
) -> None:
    _, _, key = await heartbeat(seed, minutes=5)
    await client.get(f"/ingest/{key}")
    for _ in range(6):
        clock.advance(minutes=5)
        await engine.tick()
    assert len(await world.incidents()) == 1
    assert (await world.alert("heartbeat")).count == 1


@pytest.mark.parametrize("method", ["GET", "POST"])
async def test_the_next_ping_resolves_the_missed_heartbeat_incident(
    client: httpx.AsyncClient,
    seed: Seed,
    engine: Engine,
    world: Records,
    clock: FrozenClock,
    database: Database,
    method: str,
) -> None:
    _, integration, key = await heartbeat(seed, minutes=5)
    await client.get(f"/ingest/{key}")
    clock.advance(minutes=6)
    await engine.tick()
    clock.advance(minutes=1)
    ping = await client.request(method, f"/ingest/{key}", content=b"anything at all")
    assert ping.status_code == 202, ping.text
    assert [result["result"] for result in ping.json()["results"]] == ["resolved"]
    assert (await world.incident()).status.value == "resolved"
    assert await state_of(database, integration) is HeartbeatState.OK


async def test_after_recovery_the_next_missed_ping_opens_a_new_incident(
    client: httpx.AsyncClient, seed: Seed, engine: Engine, world: Records, clock: FrozenClock
) -> None:
    _, _, key = await heartbeat(seed, minutes=5)
    await client.get(f"/ingest/{key}")
    clock.advance(minutes=5)
    await engine.tick()
    await client.post(f"/ingest/{key}")
    clock.advance(minutes=4)
    await client.post(f"/ingest/{key}")
    clock.advance(minutes=4)
    await engine.tick()
    assert len(await world.incidents()) == 1
    clock.advance(minutes=1)
    await engine.tick()
    first, second = await world.incidents()
    assert (first.status.value, second.status.value) == ("resolved", "triggered")


async def test_a_ping_with_the_key_in_the_header_counts_too(
    client: httpx.AsyncClient, seed: Seed, engine: Engine, world: Records, clock: FrozenClock
) -> None:
    _, _, key = await heartbeat(seed, minutes=5)
    ping = await client.post("/ingest", headers={"X-Tocsin-Integration-Key": key})
    assert ping.status_code == 202, ping.text
    clock.advance(minutes=5)
    await engine.tick()
    assert len(await world.incidents()) == 1


async def test_get_on_an_alert_integration_is_refused_and_is_no_ping(
    client: httpx.AsyncClient, seed: Seed, world: Records
) -> None:
    team = await crew(seed)
    _, key = await seed.integration(team.service)
    response = await client.get(f"/ingest/{key}")
    assert response.status_code == 400
    assert response.json()["field"] == "method"
    assert await world.incidents() == []


# Maintenance windows


async def window(
    seed: Seed,
    team: Crew,
    starts_at: datetime,
    ends_at: datetime,
    recurrence: str | None = None,
    time_zone: str = "UTC",
) -> MaintenanceWindow:
    async with seed.database.transaction() as session:
        return await maintenance.create_window(
            session,
            actor=system_actor("test seed"),
            service_id=team.service.id,
            starts_at=starts_at,
            ends_at=ends_at,
            recurrence=recurrence,
            time_zone=time_zone,
            now=seed.clock.now(),
        )


async def test_during_a_window_the_alert_is_recorded_and_the_incident_opened_but_nobody_paged(
    client: httpx.AsyncClient, seed: Seed, engine: Engine, world: Records, clock: FrozenClock
) -> None:
    team = await crew(seed)
    _, key = await seed.integration(team.service)
    await window(seed, team, clock.now(), clock.now() + timedelta(hours=1))
    response = await send(client, key, trigger("db-1/disk"))
    assert response.json()["results"][0]["result"] == "created"
    await engine.tick()
    clock.advance(minutes=59, seconds=59)
    await engine.tick()
    incident = await world.incident()
    assert incident.status.value == "triggered"
    assert await world.pages() == []
    held = [details for action, details in await world.timeline(incident) if "held" in action]
    assert held == [
        {
            "reason": "the service is in maintenance",
            "until": (incident.created_at + timedelta(hours=1)).isoformat(),
        }
    ]


async def test_when_a_window_ends_escalation_runs_for_open_incidents_and_not_resolved_ones(
    client: httpx.AsyncClient, seed: Seed, engine: Engine, world: Records, clock: FrozenClock
) -> None:
    team = await crew(seed)
    _, key = await seed.integration(team.service)
    await window(seed, team, clock.now(), clock.now() + timedelta(hours=1))
    await send(client, key, trigger("still-open"))
    await send(client, key, trigger("fixed-meanwhile"))
    await engine.tick()
    clock.advance(minutes=30)
    await send(client, key, {"action": "resolve", "dedup_key": "fixed-meanwhile"})
    clock.advance(minutes=30)
    await engine.tick()
    still_open, fixed = await world.incidents()
    assert await world.paged(still_open) == [team.alice.name]
    assert await world.pages(fixed) == []
    # Escalation resumes from level 1 with its usual delays once the window is over.
    clock.advance(minutes=5)
    await engine.tick()
    assert await world.paged(still_open) == [team.alice.name, team.bob.name]


async def test_an_escalation_under_way_waits_for_the_window_then_continues(
    client: httpx.AsyncClient, seed: Seed, engine: Engine, world: Records, clock: FrozenClock
) -> None:
    team = await crew(seed)
    _, key = await seed.integration(team.service)
    await send(client, key, trigger("db-1/disk"))
    await engine.tick()
    await window(seed, team, clock.now() + timedelta(minutes=2), clock.now() + timedelta(hours=1))
    clock.advance(minutes=5)
    await engine.tick()
    assert await world.paged() == [team.alice.name]
    clock.advance(minutes=55)
    await engine.tick()
    assert await world.paged() == [team.alice.name, team.bob.name]


async def test_alerts_outside_a_window_page_at_once(
    client: httpx.AsyncClient, seed: Seed, engine: Engine, world: Records, clock: FrozenClock
) -> None:
    team = await crew(seed)
    _, key = await seed.integration(team.service)
    await window(seed, team, clock.now() + timedelta(hours=1), clock.now() + timedelta(hours=2))
    await send(client, key, trigger("db-1/disk"))
    await engine.tick()
    assert await world.paged() == [team.alice.name]


async def test_a_window_on_another_service_holds_nothing_here(
    client: httpx.AsyncClient, seed: Seed, engine: Engine, world: Records, clock: FrozenClock
) -> None:
    team = await crew(seed)
    other = await crew(seed, "Other")
    _, key = await seed.integration(team.service)
    await window(seed, other, clock.now(), clock.now() + timedelta(hours=1))
    await send(client, key, trigger("db-1/disk"))
    await engine.tick()
    assert await world.paged() == [team.alice.name]


async def test_a_recurring_window_holds_escalation_during_each_occurrence(
    client: httpx.AsyncClient, seed: Seed, engine: Engine, world: Records, clock: FrozenClock
) -> None:
    team = await crew(seed)
    _, key = await seed.integration(team.service)
    # Every night from 02:00 to 03:00 in Paris (01:00 to 02:00 UTC in January).
    first_night = datetime(2026, 1, 5, 1, 0, tzinfo=UTC)
    await window(
        seed,
        team,
        first_night,
        first_night + timedelta(hours=1),
        recurrence="FREQ=DAILY",
        time_zone="Europe/Paris",
    )
    clock.set(datetime(2026, 1, 8, 1, 30, tzinfo=UTC))
    await send(client, key, trigger("nightly"))
    await engine.tick()
    assert await world.pages() == []
    clock.set(datetime(2026, 1, 8, 1, 59, 59, tzinfo=UTC))
    await engine.tick()
    assert await world.pages() == []
    clock.set(datetime(2026, 1, 8, 2, 0, tzinfo=UTC))
    await engine.tick()
    assert await world.paged() == [team.alice.name]


async def test_a_recurring_window_does_not_hold_between_occurrences(
    client: httpx.AsyncClient, seed: Seed, engine: Engine, world: Records, clock: FrozenClock
) -> None:
    team = await crew(seed)
    _, key = await seed.integration(team.service)
    await window(
        seed,
        team,
        datetime(2026, 1, 5, 1, 0, tzinfo=UTC),
        datetime(2026, 1, 5, 2, 0, tzinfo=UTC),
        recurrence="FREQ=DAILY",
    )
    clock.set(datetime(2026, 1, 8, 2, 0, tzinfo=UTC))
    await send(client, key, trigger("daytime"))
    await engine.tick()
    assert await world.paged() == [team.alice.name]


async def test_removing_a_window_releases_the_incidents_it_held_at_the_next_tick(
    client: httpx.AsyncClient, seed: Seed, engine: Engine, world: Records, clock: FrozenClock
) -> None:
    team = await crew(seed)
    _, key = await seed.integration(team.service)
    held = await window(seed, team, clock.now(), clock.now() + timedelta(hours=4))
    await send(client, key, trigger("db-1/disk"))
    await engine.tick()
    clock.advance(minutes=30)
    async with seed.database.transaction() as session:
        await maintenance.delete_window(
            session,
            actor=system_actor("test seed"),
            service_id=team.service.id,
            window_id=held.id,
            now=clock.now(),
        )
    await engine.tick()
    assert await world.paged() == [team.alice.name]


async def test_an_acknowledgement_that_times_out_during_a_window_waits_for_its_end(
    client: httpx.AsyncClient, seed: Seed, engine: Engine, world: Records, clock: FrozenClock
) -> None:
    team = await crew(seed, ack_timeout_minutes=30)
    _, key = await seed.integration(team.service)
    await send(client, key, trigger("db-1/disk"))
    await engine.tick()
    alice = await seed.as_user(team.alice)
    await alice.post(f"/api/v1/incidents/{(await world.incident()).id}/acknowledge")
    await window(seed, team, clock.now() + timedelta(minutes=10), clock.now() + timedelta(hours=2))
    clock.advance(minutes=30)
    await engine.tick()
    assert (await world.incident()).status.value == "triggered"
    assert await world.paged() == [team.alice.name]
    clock.advance(minutes=90)
    await engine.tick()
    assert await world.paged() == [team.alice.name, team.alice.name]


async def test_a_recurring_window_keeps_its_local_time_across_daylight_saving(
    client: httpx.AsyncClient, seed: Seed, engine: Engine, world: Records, clock: FrozenClock
) -> None:
    team = await crew(seed)
    _, key = await seed.integration(team.service)
    # 09:00 to 10:00 in Paris every day: 08:00 UTC in winter, 07:00 UTC in summer.
    await window(
        seed,
        team,
        datetime(2026, 1, 5, 8, 0, tzinfo=UTC),
        datetime(2026, 1, 5, 9, 0, tzinfo=UTC),
        recurrence="FREQ=DAILY",
        time_zone="Europe/Paris",
    )
    clock.set(datetime(2026, 4, 6, 7, 30, tzinfo=UTC))
    await send(client, key, trigger("inside"))
    await engine.tick()
    clock.set(datetime(2026, 4, 6, 7, 59, 59, tzinfo=UTC))
    await engine.tick()
    assert await world.pages() == []
    clock.set(datetime(2026, 4, 6, 8, 0, tzinfo=UTC))
    await engine.tick()
    assert await world.paged() == [team.alice.name]
    # 08:30 UTC is inside the winter window but after the summer one: paged at once.
    clock.set(datetime(2026, 4, 6, 8, 30, tzinfo=UTC))
    await send(client, key, trigger("after"))
    await engine.tick()
    _, after = await world.incidents()
    assert await world.paged(after) == [team.alice.name]


async def test_overlapping_windows_hold_escalation_until_the_last_one_ends(
    client: httpx.AsyncClient, seed: Seed, engine: Engine, world: Records, clock: FrozenClock
) -> None:
    team = await crew(seed)
    _, key = await seed.integration(team.service)
    start = clock.now()
    await window(seed, team, start, start + timedelta(hours=1))
    await window(seed, team, start + timedelta(minutes=30), start + timedelta(hours=2))
    await send(client, key, trigger("db-1/disk"))
    await engine.tick()
    clock.set(start + timedelta(hours=1))
    await engine.tick()
    assert await world.pages() == []
    clock.set(start + timedelta(hours=2))
    await engine.tick()
    assert await world.paged() == [team.alice.name]


async def test_a_window_added_and_removed_through_the_api_holds_then_releases_escalation(
    client: httpx.AsyncClient, seed: Seed, engine: Engine, world: Records, clock: FrozenClock
) -> None:
    team = await crew(seed)
    _, key = await seed.integration(team.service)
    carol = await seed.as_user(team.carol)
    created = await carol.post(
        f"/api/v1/services/{team.service.id}/maintenance-windows",
        json={
            "starts_at": clock.now().isoformat(),
            "ends_at": (clock.now() + timedelta(hours=3)).isoformat(),
            "description": "database upgrade",
        },
    )
    assert created.status_code == 201, created.text
    await send(client, key, trigger("db-1/disk"))
    await engine.tick()
    clock.advance(hours=1)
    await engine.tick()
    assert await world.pages() == []
    removed = await carol.delete(
        f"/api/v1/services/{team.service.id}/maintenance-windows/{created.json()['id']}"
    )
    assert removed.status_code == 204, removed.text
    await engine.tick()
    assert await world.paged() == [team.alice.name]
