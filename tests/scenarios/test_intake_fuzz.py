"""Every intake URL fuzzed over HTTP: no body makes tocsin answer 5xx, a refused request
changes nothing, and the server is healthy afterwards.

Two generators, each over every intake URL (``support.intake_paths``, plus a heartbeat):

* JSON structures: a shipped example (``ingest/examples/``) with any part, the whole body
  included, replaced by JSON built to hurt: nesting past the limit, numbers of thousands
  of digits, ``1e999`` and ``NaN``, NUL and lone surrogates (escaped, or as raw UTF-8
  bytes), and arrays or scalars where objects are expected;
* byte mutations of the example's bytes: flips, cuts, repeats, and inserted tokens that
  once crashed the intake (``\\u0000``, ``ED A0 80``, ``[`` a hundred times, 5,000 digits).

A refusal (4xx) must come in the URL's own shape and leave alerts, incidents, applied
events and change events exactly as they were. In CI each test runs a fixed,
derandomized set of ``TOCSIN_FUZZ_EXAMPLES`` (default 200) examples, a few seconds;
``TOCSIN_FUZZ_EXAMPLES=5000 pytest tests/scenarios/test_intake_fuzz.py`` explores new
random examples for longer.
"""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from fastapi import FastAPI
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.builders import SECRET, Seed
from tests.scenarios.support import IntakePath, crew, example, intake_paths
from tocsin.app import create_app
from tocsin.clock import FrozenClock
from tocsin.config import Settings
from tocsin.db.session import Database
from tocsin.metrics import Metrics

DEFAULT_EXAMPLES = 200
EXAMPLES = int(os.environ.get("TOCSIN_FUZZ_EXAMPLES", DEFAULT_EXAMPLES))
FUZZ = settings(
    max_examples=EXAMPLES,
    # CI runs the same examples every time; a longer local run explores new ones.
    derandomize="TOCSIN_FUZZ_EXAMPLES" not in os.environ,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


@pytest.fixture
def app(settings: Settings, clock: FrozenClock, database: Database) -> FastAPI:
    """The app without intake rate limits: thousands of requests meet a frozen clock."""
    return create_app(
        settings=settings.model_copy(update={"ingest_rate_per_minute": 0}),
        clock=clock,
        database=database,
        secret=SECRET,
        metrics=Metrics(),
    )


@pytest.fixture
async def paths(seed: Seed) -> list[IntakePath]:
    team = await crew(seed)
    _, heartbeat = await seed.integration(team.service, kind="heartbeat")
    return [
        *await intake_paths(seed, team.service),
        IntakePath("/ingest heartbeat", f"/ingest/{heartbeat}", example("generic", "trigger")),
    ]


# What a refused request must leave as it was.
STATE = sa.text(
    """
    SELECT
        (SELECT md5(coalesce(string_agg(
            concat_ws('|', id, status, count, title, last_seen_at), ',' ORDER BY id), ''))
         FROM alert),
        (SELECT md5(coalesce(string_agg(
            concat_ws('|', id, status, alert_count), ',' ORDER BY id), ''))
         FROM incident),
        (SELECT count(*) FROM inbound_event WHERE outcome = 'applied'),
        (SELECT count(*) FROM change_event)
    """
)


async def state(database: Database) -> tuple[Any, ...]:
    async with database.transaction() as session:
        return tuple((await session.execute(STATE)).one())


async def send_and_check(
    client: httpx.AsyncClient, database: Database, path: IntakePath, body: bytes
) -> None:
    before = await state(database)
    response = await path.post(client, body)
    assert response.status_code < 500, (path.name, body[:300], response.text)
    if response.status_code >= 400:
        assert await state(database) == before, (path.name, body[:300], response.text)
    if response.status_code in (400, 422):
        assert path.refused_field(response), (path.name, response.text)


async def healthy(client: httpx.AsyncClient, paths: list[IntakePath]) -> None:
    """``/readyz`` is green and every URL still takes its example."""
    assert (await client.get("/readyz")).status_code == 200
    for path in paths:
        response = await path.post(client, json.dumps(path.body).encode())
        assert response.status_code == 202, (path.name, response.text)


# Nasty JSON


@dataclass(frozen=True)
class Raw:
    """JSON text written as is: ``json.dumps`` cannot write these (or writes them as
    Python, not JSON, would)."""

    text: str


def deep(levels: int, opener: str) -> Raw:
    closer = "]" if opener == "[" else "}"
    inner = "[" if opener == "[" else '{"a":'
    return Raw(inner * levels + "1" * (opener == "{") + closer * levels)


ANY_TEXT = st.text(st.characters(codec=None, exclude_categories=()), max_size=12)
NASTY_TEXT = st.sampled_from(
    ["", " ", "\x00", "a\x00b", "\ud800", "x\udfff", "\ud83d", "firing", "resolved", "P1"]
)
NASTY_NUMBERS = st.one_of(
    st.integers(90, 6000).map(lambda digits: Raw("9" * digits)),
    st.sampled_from([Raw(text) for text in ("1e999", "-1e400", "NaN", "Infinity", "-0", "1e-400")]),
    st.floats(),
    st.integers(),
)
NASTY_SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    ANY_TEXT,
    NASTY_TEXT,
    NASTY_NUMBERS,
    st.integers(60, 2500).map(lambda levels: deep(levels, "[")),
    st.integers(60, 70).map(lambda levels: deep(levels, "{")),
)
NASTY_JSON = st.recursive(
    NASTY_SCALARS,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(st.one_of(ANY_TEXT, NASTY_TEXT), inner, max_size=4),
    ),
    max_leaves=12,
)


def encode(value: Any, *, raw_utf8: bool) -> bytes:
    """``value`` as JSON bytes; with ``raw_utf8``, non-ASCII (lone surrogates too) is sent
    as UTF-8 bytes rather than ``\\u`` escapes."""

    def text(item: Any) -> str:
        if isinstance(item, Raw):
            return item.text
        if isinstance(item, dict):
            pairs = (f"{text(str(key))}:{text(value)}" for key, value in item.items())
            return "{" + ",".join(pairs) + "}"
        if isinstance(item, list):
            return "[" + ",".join(text(value) for value in item) + "]"
        return json.dumps(item, ensure_ascii=not raw_utf8)

    return text(value).encode("utf-8", "surrogatepass")


def places(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every place in ``value`` a part can be swapped, the root included."""
    found = [prefix]
    if isinstance(value, dict):
        for key, item in value.items():
            found += places(item, (*prefix, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found += places(item, (*prefix, index))
    return found


def replaced(value: Any, place: tuple[Any, ...], new: Any) -> Any:
    if not place:
        return new
    head, *rest = place
    copy: Any = dict(value) if isinstance(value, dict) else list(value)
    copy[head] = replaced(value[head], tuple(rest), new)
    return copy


async def fuzzed(draw_request: Callable[[st.DataObject], Awaitable[None]]) -> None:
    """Run Hypothesis over ``draw_request`` (which draws a request and sends it, checked).

    Hypothesis runs in a thread of its own and hands each request to this event loop, on
    which the app and the database live; so one test fuzzes, then checks the server it
    fuzzed, with its database intact.
    """
    loop = asyncio.get_running_loop()

    @FUZZ
    @given(data=st.data())
    def run(data: st.DataObject) -> None:
        asyncio.run_coroutine_threadsafe(draw_request(data), loop).result()

    await asyncio.to_thread(run)


async def test_any_json_structure_on_any_intake_path_is_never_a_server_error(
    client: httpx.AsyncClient, database: Database, paths: list[IntakePath]
) -> None:
    def request(data: st.DataObject) -> Awaitable[None]:
        path = data.draw(st.sampled_from(paths), label="path")
        place = data.draw(st.sampled_from(places(path.body)), label="place")
        body = replaced(path.body, place, data.draw(NASTY_JSON, label="value"))
        raw_utf8 = data.draw(st.booleans(), label="raw UTF-8")
        return send_and_check(client, database, path, encode(body, raw_utf8=raw_utf8))

    await fuzzed(request)
    await healthy(client, paths)


# Byte mutations

TOKENS = [
    b"\\u0000",
    b"\\ud800",
    b"\x00",
    b"\xed\xa0\x80",
    b"\xff",
    b"\xc3",
    b"[" * 100,
    b"{" * 100,
    b"9" * 5000,
    b"NaN",
    b"1e999",
    b'"',
    b"\\",
    b"{",
    b"]",
    b",",
    b":",
    b"null",
    b"[]",
    b"{}",
]


@st.composite
def mutated(draw: st.DrawFn, original: bytes) -> bytes:
    data = bytearray(original)
    for _ in range(draw(st.integers(1, 4))):
        at = draw(st.integers(0, len(data)))
        end = draw(st.integers(at, min(len(data), at + 64)))
        kind = draw(st.sampled_from(["flip", "cut", "repeat", "insert", "token"]))
        if kind == "flip" and at < len(data):
            data[at] ^= 1 << draw(st.integers(0, 7))
        elif kind == "cut":
            del data[at:end]
        elif kind == "repeat":
            data[at:at] = data[at:end] * draw(st.integers(1, 50))
        elif kind == "insert":
            data[at:at] = draw(st.binary(min_size=1, max_size=8))
        else:
            data[at:at] = draw(st.sampled_from(TOKENS))
    return bytes(data)


async def test_any_mutation_of_a_real_body_on_any_intake_path_is_never_a_server_error(
    client: httpx.AsyncClient, database: Database, paths: list[IntakePath]
) -> None:
    def request(data: st.DataObject) -> Awaitable[None]:
        path = data.draw(st.sampled_from(paths), label="path")
        indent = data.draw(st.sampled_from([None, 2]), label="indent")
        original = json.dumps(path.body, indent=indent).encode()
        body = data.draw(mutated(original), label="body")
        return send_and_check(client, database, path, body)

    await fuzzed(request)
    await healthy(client, paths)
