"""``GroupCommit`` against PostgreSQL: units queued together share one transaction, run in
the order of their keys, are answered only once committed, and a unit that fails has its
writes undone while its neighbours are applied once each."""

from __future__ import annotations

import asyncio

import psycopg
import pytest

from tocsin.db.executors import OnConnection
from tocsin.db.group_commit import GroupCommit, Work
from tocsin.db.session import Database

PROBE = "CREATE TABLE IF NOT EXISTS group_commit_probe (note text NOT NULL)"


@pytest.fixture
async def probe(database: Database) -> Database:
    async with database.raw_transaction() as connection:
        await connection.execute(PROBE)
    return database


async def notes(database: Database) -> list[str]:
    async with database.raw_transaction() as connection:
        cursor = await connection.execute("SELECT note FROM group_commit_probe ORDER BY note")
        return [row[0] for row in await cursor.fetchall()]


def writing(note: str, seen: list[str] | None = None, *, fail: bool = False) -> Work[int]:
    async def work(executor: OnConnection) -> int:
        await executor.rows(
            "INSERT INTO group_commit_probe (note) VALUES (%(note)s)", {"note": note}
        )
        if seen is not None:
            seen.append(note)
        if fail:
            raise ValueError(f"{note} refused")
        rows = await executor.rows("SELECT txid_current()", {})
        return int(rows[0][0])

    return work


async def test_units_queued_together_share_one_transaction_in_key_order(probe: Database) -> None:
    commits = GroupCommit(probe, lanes=1)
    seen: list[str] = []
    transactions = await asyncio.gather(
        *(commits.run(writing(note, seen), order=(note,)) for note in ["c", "a", "d", "b"])
    )
    assert len(set(transactions)) == 1
    assert seen == ["a", "b", "c", "d"]
    assert await notes(probe) == ["a", "b", "c", "d"]


async def test_an_answer_comes_only_once_its_transaction_is_committed(probe: Database) -> None:
    commits = GroupCommit(probe)
    await commits.run(writing("durable"), order=("durable",))
    # Read on another connection: the write is already visible there.
    assert probe.url is not None
    plain = probe.url.replace("postgresql+psycopg://", "postgresql://", 1)
    async with await psycopg.AsyncConnection.connect(plain) as other:
        cursor = await other.execute("SELECT count(*) FROM group_commit_probe")
        assert await cursor.fetchone() == (1,)


async def test_a_failing_unit_gets_its_error_its_writes_undone_and_neighbours_apply_once(
    probe: Database,
) -> None:
    commits = GroupCommit(probe, lanes=1)
    outcomes = await asyncio.gather(
        commits.run(writing("a"), order=("a",)),
        commits.run(writing("b", fail=True), order=("b",)),
        commits.run(writing("c"), order=("c",)),
        return_exceptions=True,
    )
    assert isinstance(outcomes[1], ValueError)
    assert str(outcomes[1]) == "b refused"
    assert isinstance(outcomes[0], int)
    assert isinstance(outcomes[2], int)
    # Ran again alone: one transaction each.
    assert outcomes[0] != outcomes[2]
    assert await notes(probe) == ["a", "c"]


async def test_a_caller_cancelled_before_its_turn_has_nothing_applied(probe: Database) -> None:
    commits = GroupCommit(probe, lanes=1)
    first = asyncio.create_task(commits.run(writing("first"), order=("first",)))
    cancelled = asyncio.create_task(commits.run(writing("cancelled"), order=("cancelled",)))
    await asyncio.sleep(0)  # both queued; the lane has not started its batch yet
    cancelled.cancel()
    await first
    with pytest.raises(asyncio.CancelledError):
        await cancelled
    assert await notes(probe) == ["first"]
