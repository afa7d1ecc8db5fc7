"""A page goes from its escalation step to its sends in one transaction (engine/dispatch.py):
the escalation lane alone sends it, no other lane is woken for it, and when the hand-over
fails the step still commits and the next lane is woken to finish."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta

import httpx
import psycopg
import pytest
import sqlalchemy as sa

from tests.fakes.smtp import FakeSmtp
from tests.notify.conftest import Deliveries, Oncall
from tests.scenarios.conftest import send, trigger
from tocsin.actions.actors import system_actor
from tocsin.actions.incidents import incidents
from tocsin.actions.notify import tiers
from tocsin.actions.notify.deliveries import Claim
from tocsin.actions.wake import WAKE_CHANNEL
from tocsin.clock import FrozenClock
from tocsin.db.models.incidents import Incident
from tocsin.db.session import Database
from tocsin.engine.dispatch import DispatchModule
from tocsin.engine.escalations import EscalationModule
from tocsin.engine.loop import Engine
from tocsin.engine.reopens import ReopenModule

SUBJECT = "[CRITICAL] payments-api: Disk full on db-1"


class Wakes:
    """The payloads of every NOTIFY on the engines' channel, from a LISTEN of its own."""

    def __init__(self, connection: psycopg.AsyncConnection[object]) -> None:
        self.connection = connection

    async def heard(self) -> list[str]:
        # A statement round trip delivers what was sent before it.
        await self.connection.execute("SELECT 1")
        return [note.payload async for note in self.connection.notifies(timeout=0.2)]


@pytest.fixture
async def wakes(database_url: str) -> AsyncIterator[Wakes]:
    connection = await psycopg.AsyncConnection.connect(database_url, autocommit=True)
    await connection.execute(f"LISTEN {WAKE_CHANNEL}")
    try:
        yield Wakes(connection)
    finally:
        await connection.close()


@dataclass
class Scene:
    """Alice on call for payments-api, an engine that mails her, and the engines' wakes."""

    client: httpx.AsyncClient
    oncall: Oncall
    engine: Engine
    smtp: FakeSmtp
    deliveries: Deliveries
    database: Database
    clock: FrozenClock
    wakes: Wakes

    @property
    def escalations(self) -> EscalationModule:
        return next(m for m in self.engine.modules if isinstance(m, EscalationModule))

    async def alert(self) -> None:
        await send(self.client, self.oncall.key, trigger("db-1/disk"))

    async def mailed(self) -> None:
        self.smtp.expect(to="alice@example.com", subject=SUBJECT)
        assert await self.deliveries.statuses() == [("page", "email", "sent")]


@pytest.fixture
def scene(
    client: httpx.AsyncClient,
    oncall: Oncall,
    engine: Engine,
    smtp: FakeSmtp,
    deliveries: Deliveries,
    database: Database,
    clock: FrozenClock,
    wakes: Wakes,
) -> Scene:
    return Scene(client, oncall, engine, smtp, deliveries, database, clock, wakes)


async def test_the_escalation_lane_alone_sends_the_page_and_wakes_no_other_lane(
    scene: Scene,
) -> None:
    await scene.alert()
    assert await scene.wakes.heard() == ["escalations"]  # intake wakes the escalation lane

    report = await scene.escalations.tick(scene.database, scene.clock.now(), batch_size=200)

    assert report.applied == 1
    await scene.mailed()
    # Neither the dispatch lane nor the delivery lane was woken: nothing was left to them.
    heard = await scene.wakes.heard()
    assert "dispatch" not in heard
    assert not any("deliveries" in payload for payload in heard)


class _BrokenDispatch(DispatchModule):
    """Dispatching where the pages are written fails (a bug, a bad row)."""

    async def _dispatch(self, *args: object, **kwargs: object) -> object:  # type: ignore[override]
        raise RuntimeError("a bug in dispatching")


async def test_a_failed_hand_over_keeps_the_step_and_wakes_the_dispatch_lane(
    scene: Scene,
) -> None:
    escalations = scene.escalations
    working = escalations.dispatcher
    assert working is not None
    escalations.dispatcher = _BrokenDispatch(working.notifier, working.metrics)
    await scene.alert()
    await scene.wakes.heard()

    report = await escalations.tick(scene.database, scene.clock.now(), batch_size=200)

    assert report.applied == 1  # the step committed: the page is written
    assert await scene.deliveries.statuses() == []  # nothing dispatched, nothing lost
    assert "dispatch" in await scene.wakes.heard()
    # The dispatch lane, woken, dispatches the page and sends it in the same tick.
    await working.tick(scene.database, scene.clock.now(), batch_size=200)
    await scene.mailed()


async def test_the_dispatch_lane_sends_what_it_dispatches(scene: Scene) -> None:
    """Pages written elsewhere (escalated by hand, left by a failure) go the same way:
    dispatched and claimed in one transaction, no delivery lane woken."""
    escalations = scene.escalations
    dispatcher = escalations.dispatcher
    assert dispatcher is not None
    escalations.dispatcher = None  # an escalation step that only writes pages
    await scene.alert()
    await escalations.tick(scene.database, scene.clock.now(), batch_size=200)
    assert "dispatch" in await scene.wakes.heard()

    outcomes = tiers.Outcomes()
    now = scene.clock.now()
    async with scene.database.transaction() as session:
        claim = await dispatcher.dispatch_in(session, now, limit=200, outcomes=outcomes)
    assert isinstance(claim, Claim)
    assert len(claim.prepared) == 1
    await dispatcher.after_commit(scene.database, claim, outcomes, now)
    await scene.mailed()
    assert not any("deliveries" in payload for payload in await scene.wakes.heard())


async def test_a_reopened_incident_wakes_the_escalation_lane(scene: Scene) -> None:
    """A snooze that ends makes the incident due at once; the escalation lane, asleep until
    its next timer, must hear of it (it used to wait for its poll, seconds late)."""
    await scene.alert()
    await scene.engine.tick()
    await scene.mailed()
    async with scene.database.transaction() as session:
        incident_id = await session.scalar(sa.select(Incident.id))
        assert incident_id is not None
        await incidents.snooze(
            session,
            incident_id=incident_id,
            actor=system_actor("test"),
            duration=timedelta(minutes=5),
            via="test",
            now=scene.clock.now(),
        )
    await scene.wakes.heard()
    scene.clock.advance(minutes=5)
    reopens = next(m for m in scene.engine.modules if isinstance(m, ReopenModule))
    report = await reopens.tick(scene.database, scene.clock.now(), batch_size=200)
    assert report.applied == 1
    assert "escalations" in await scene.wakes.heard()
