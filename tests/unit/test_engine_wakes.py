"""Which engine lanes a NOTIFY wakes (those its payload names, or all of them), and how a
lane that fails waits before it runs again."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import structlog

from tocsin.clock import FrozenClock
from tocsin.db.session import Database
from tocsin.engine.loop import Engine, woken_by
from tocsin.engine.modules import TickReport
from tocsin.metrics import Metrics


def now_utc() -> datetime:
    return datetime.now(UTC)


LANES = ("reopens", "escalations", "dispatch", "deliveries")


def test_a_payload_wakes_only_the_modules_it_names() -> None:
    assert woken_by("escalations", LANES) == {"escalations"}
    assert woken_by("dispatch,deliveries", LANES) == {"dispatch", "deliveries"}


def test_an_empty_payload_wakes_every_module() -> None:
    assert woken_by("", LANES) == set(LANES)


def test_a_name_no_module_has_wakes_nobody() -> None:
    assert woken_by("heartbeat-v2", LANES) == set()


class _Broken:
    """A module whose every tick fails with a bug (not a database outage)."""

    name = "broken"

    def __init__(self) -> None:
        self.ticks = 0

    async def tick(self, database: Database, now: datetime, *, batch_size: int) -> TickReport:
        self.ticks += 1
        raise RuntimeError("a bug in this module")

    async def next_due(self, database: Database) -> datetime | None:
        return now_utc()  # always due: the loop must not take that as "run again at once"


async def test_a_failing_module_backs_off_instead_of_spinning() -> None:
    broken = _Broken()
    database = Database("postgresql://postgres@127.0.0.1:1/nowhere")
    engine = Engine(database, FrozenClock(), Metrics(), modules=[broken])
    stopping = asyncio.Event()
    with structlog.testing.capture_logs() as logged:
        running = asyncio.create_task(engine.run(stopping))
        await asyncio.sleep(1.5)
        stopping.set()
        await running
    await database.dispose()
    # One failure, then a pause of about a second (jittered), then one more at most.
    assert 1 <= broken.ticks <= 3
    failures = [entry for entry in logged if entry["event"] == "engine module failed"]
    assert len(failures) == broken.ticks
