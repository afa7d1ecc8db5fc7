"""Login limits hold for the deployment, not per process: through two app instances, each
with its own pools (two ``tocsin serve`` processes), failed logins are counted once for
both, per account and per address, even when they race. (The intake limit's test across
processes is in ``test_bad_input.py``.)"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx

from tests.builders import BASE_URL, PASSWORD, SECRET, Seed
from tests.conftest import pooled_database
from tocsin.app import create_app
from tocsin.clock import FrozenClock
from tocsin.config import Settings


@asynccontextmanager
async def two_processes(
    settings: Settings, clock: FrozenClock, **limits: int
) -> AsyncIterator[tuple[httpx.AsyncClient, httpx.AsyncClient]]:
    """Two apps on the test's database, each with its own pools; ``limits`` override
    settings."""
    limited = settings.model_copy(update=limits)
    async with pooled_database(settings, 5) as first, pooled_database(settings, 5) as second:
        clients = [
            httpx.AsyncClient(
                transport=httpx.ASGITransport(
                    app=create_app(settings=limited, clock=clock, database=db, secret=SECRET)
                ),
                base_url=BASE_URL,
            )
            for db in (first, second)
        ]
        async with clients[0] as one, clients[1] as other:
            yield one, other


async def login(client: httpx.AsyncClient, email: str, password: str) -> httpx.Response:
    form = await client.get("/login")
    match = re.search(r'name="csrf_token" value="([^"]+)"', form.text)
    assert match, form.text
    return await client.post(
        "/login", data={"email": email, "password": password, "csrf_token": match.group(1)}
    )


async def test_racing_failed_logins_for_one_account_through_two_processes_count_once(
    seed: Seed, settings: Settings, clock: FrozenClock
) -> None:
    user = await seed.user("Max", password=PASSWORD)
    async with two_processes(settings, clock, login_max_failures_per_account=3) as (one, other):
        answers = await asyncio.gather(
            *(login(one if n % 2 else other, user.email, f"guess {n}") for n in range(8))
        )
        assert sorted(response.status_code for response in answers) == [401] * 3 + [429] * 5
        assert (await login(one, user.email, PASSWORD)).status_code == 429


async def test_racing_failed_logins_from_one_address_through_two_processes_count_once(
    seed: Seed, settings: Settings, clock: FrozenClock
) -> None:
    """A password spray: every guess names another account, from one address, all at
    once, through both processes. The address's limit holds as if they came one by one."""
    victim = await seed.user("Vic", password=PASSWORD)
    async with two_processes(
        settings, clock, login_max_failures_per_ip=3, login_max_failures_per_account=100
    ) as (one, other):
        answers = await asyncio.gather(
            *(
                login(one if n % 2 else other, f"spray{n}@example.com", "guess guess")
                for n in range(8)
            )
        )
        assert sorted(response.status_code for response in answers) == [401] * 3 + [429] * 5
        blocked = await login(other, victim.email, PASSWORD)
        assert blocked.status_code == 429
        assert int(blocked.headers["retry-after"]) > 0
