"""A page goes from its escalation step to its sends in one transaction (engine/dispatch.py):
the escalation lane alone sends it, no other lane is woken for it, and when the hand-over
fails the step still commits and the next lane is woken to finish."""

from __future__ import annotations

from collections.abc import AsyncIterator
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


def _escalations(engine: Engine) -> EscalationModule:
    return next(m for m in engine.modules if isinstance(m, EscalationModule))


async def test_the_escalation_lane_alone_sends_the_page_and_wakes_no_other_lane(
    client: httpx.AsyncClient,
    oncall: Oncall,
    engine: Engine,
    smtp: FakeSmtp,
    deliveries: Deliveries,
    database: Database,
    clock: FrozenClock,
    wakes: Wakes,
) -> None:
    await send(client, oncall.key, trigger("db-1/disk"))
    assert await wakes.heard() == ["escalations"]  # intake wakes the escalation lane

    report = await _escalations(engine).tick(database, clock.now(), batch_size=200)

    assert report.applied == 1
    smtp.expect(to="alice@example.com", subject=SUBJECT)
    assert await deliveries.statuses() == [("page", "email", "sent")]
    # Neither the dispatch lane nor the delivery lane was woken: nothing was left to them.
    assert "dispatch" not in await wakes.heard()
    assert not any("deliveries" in payload for payload in await wakes.heard())


class _BrokenDispatch(DispatchModule):
    """Dispatching where the pages are written fails (a bug, a bad row)."""

    async def _dispatch(self, *args: object, **kwargs: object) -> object:  # type: ignore[override]
        raise RuntimeError("a bug in dispatching")


async def test_a_failed_hand_over_keeps_the_step_and_wakes_the_dispatch_lane(
    client: httpx.AsyncClient,
    oncall: Oncall,
    engine: Engine,
    smtp: FakeSmtp,
    deliveries: Deliveries,
    database: Database,
    clock: FrozenClock,
    wakes: Wakes,
) -> None:
    escalations = _escalations(engine)
    assert escalations.dispatcher is not None
    working = escalations.dispatcher
    escalations.dispatcher = _BrokenDispatch(working.notifier, working.metrics)
    await send(client, oncall.key, trigger("db-1/disk"))
    await wakes.heard()

    report = await escalations.tick(database, clock.now(), batch_size=200)

    assert report.applied == 1  # the step committed: the page is written
    assert await deliveries.statuses() == []  # nothing dispatched, nothing lost
    assert "dispatch" in await wakes.heard()
    # The dispatch lane, woken, dispatches the page and sends it in the same tick.
    await working.tick(database, clock.now(), batch_size=200)
    smtp.expect(to="alice@example.com", subject=SUBJECT)
    assert await deliveries.statuses() == [("page", "email", "sent")]


async def test_the_dispatch_lane_sends_what_it_dispatches(
    client: httpx.AsyncClient,
    oncall: Oncall,
    engine: Engine,
    smtp: FakeSmtp,
    deliveries: Deliveries,
    database: Database,
    clock: FrozenClock,
    wakes: Wakes,
) -> None:
    """Pages written elsewhere (escalated by hand, left by a failure) go the same way:
    dispatched and claimed in one transaction, no delivery lane woken."""
    escalations = _escalations(engine)
    dispatcher = escalations.dispatcher
    assert dispatcher is not None
    escalations.dispatcher = None  # an escalation step that only writes pages
    await send(client, oncall.key, trigger("db-1/disk"))
    await escalations.tick(database, clock.now(), batch_size=200)
    assert "dispatch" in await wakes.heard()

    outcomes = tiers.Outcomes()
    async with database.transaction() as session:
        claim = await dispatcher.dispatch_in(session, clock.now(), limit=200, outcomes=outcomes)
    assert isinstance(claim, Claim)
    assert len(claim.prepared) == 1
    await dispatcher.after_commit(database, claim, outcomes, clock.now())
    smtp.expect(to="alice@example.com", subject=SUBJECT)
    assert await deliveries.statuses() == [("page", "email", "sent")]
    assert not any("deliveries" in payload for payload in await wakes.heard())


async def test_a_reopened_incident_wakes_the_escalation_lane(
    client: httpx.AsyncClient,
    oncall: Oncall,
    engine: Engine,
    smtp: FakeSmtp,
    database: Database,
    clock: FrozenClock,
    wakes: Wakes,
) -> None:
    """A snooze that ends makes the incident due at once; the escalation lane, asleep until
    its next timer, must hear of it (it used to wait for its poll, seconds late)."""
    await send(client, oncall.key, trigger("db-1/disk"))
    await engine.tick()
    smtp.expect(to="alice@example.com", subject=SUBJECT)
    async with database.transaction() as session:
        incident_id = await session.scalar(sa.select(Incident.id))
        assert incident_id is not None
        await incidents.snooze(
            session,
            incident_id=incident_id,
            actor=system_actor("test"),
            duration=timedelta(minutes=5),
            via="test",
            now=clock.now(),
        )
    await wakes.heard()
    clock.advance(minutes=5)
    reopens = next(m for m in engine.modules if isinstance(m, ReopenModule))
    report = await reopens.tick(database, clock.now(), batch_size=200)
    assert report.applied == 1
    assert "escalations" in await wakes.heard()
