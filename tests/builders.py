"""Fixtures that build an app and the people, teams and keys a test needs.

``seed`` writes through the real actions (as the system), so seeded data is exactly what
the product itself would have written, audit events included.
"""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass, field

import httpx
import pytest
from fastapi import FastAPI

from tocsin.actions import api_keys, logins, teams, users
from tocsin.actions.actors import system_actor
from tocsin.api import csrf
from tocsin.api.app import create_app
from tocsin.api.context import AppContext
from tocsin.clock import FrozenClock
from tocsin.config import Settings
from tocsin.db.models.teams import Team
from tocsin.db.models.users import User
from tocsin.db.session import Database
from tocsin.domain.access import Scope, TeamRole
from tocsin.metrics import Metrics

BASE_URL = "https://tocsin.test"
PASSWORD = "correct horse battery staple"


@pytest.fixture
def app(settings: Settings, clock: FrozenClock, database: Database) -> FastAPI:
    return create_app(
        settings=settings,
        clock=clock,
        database=database,
        secret=b"test-secret-key-not-for-production",
        metrics=Metrics(),
    )


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with _client(app) as anonymous:
        yield anonymous


def _client(app: FastAPI, headers: dict[str, str] | None = None) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app, client=("203.0.113.7", 50000)),
        base_url=BASE_URL,
        headers=headers,
    )


@dataclass
class Seed:
    app: FastAPI
    database: Database
    clock: FrozenClock
    _counter: itertools.count[int] = field(default_factory=itertools.count)
    _clients: list[httpx.AsyncClient] = field(default_factory=list)

    async def user(
        self,
        name: str | None = None,
        *,
        email: str | None = None,
        admin: bool = False,
        password: str | None = None,
        time_zone: str = "UTC",
        phone: str | None = None,
    ) -> User:
        number = next(self._counter)
        name = name or f"User {number}"
        email = email or f"{name.split()[0].lower()}{number}@example.com"
        async with self.database.transaction() as session:
            return await users.create_user(
                session,
                actor=system_actor("test seed"),
                email=email,
                name=name,
                time_zone=time_zone,
                phone=phone,
                password=password,
                is_platform_admin=admin,
                now=self.clock.now(),
            )

    async def team(
        self, name: str | None = None, members: Iterable[tuple[User, TeamRole]] = ()
    ) -> Team:
        actor = system_actor("test seed")
        async with self.database.transaction() as session:
            team = await teams.create_team(
                session,
                actor=actor,
                name=name or f"Team {next(self._counter)}",
                now=self.clock.now(),
            )
            for user, role in members:
                await teams.add_member(
                    session,
                    actor=actor,
                    team_id=team.id,
                    user_id=user.id,
                    role=role,
                    now=self.clock.now(),
                )
            return team

    async def api_key(self, *scopes: Scope, name: str = "test key") -> str:
        async with self.database.transaction() as session:
            issued = await api_keys.create_api_key(
                session,
                actor=system_actor("test seed"),
                name=name,
                scopes=scopes,
                now=self.clock.now(),
            )
            return issued.secret

    async def session_token(self, user: User) -> str:
        """A browser session for ``user``, as if they had signed in."""
        context = context_of_app(self.app)
        async with self.database.transaction() as session:
            token = await logins.issue_login_link(
                session,
                actor=system_actor("test seed"),
                user_id=user.id,
                ttl=context.session_policy.max_age,
                now=self.clock.now(),
            )
            outcome = await logins.redeem_login_link(
                session,
                token=token,
                ip_address="203.0.113.7",
                user_agent="pytest",
                policy=context.session_policy,
                now=self.clock.now(),
            )
        assert outcome.token is not None
        return outcome.token

    async def as_user(self, user: User) -> httpx.AsyncClient:
        """A client signed in as ``user``, sending the CSRF header like htmx does."""
        token = await self.session_token(user)
        context = context_of_app(self.app)
        client = _client(self.app, {csrf.HEADER: csrf.for_session(context.keys.csrf, token)})
        client.cookies.set(csrf.SESSION_COOKIE, token, domain="tocsin.test")
        self._clients.append(client)
        return client

    async def as_key(self, *scopes: Scope) -> httpx.AsyncClient:
        key = await self.api_key(*scopes)
        client = _client(self.app, {"Authorization": f"Bearer {key}"})
        self._clients.append(client)
        return client

    async def close(self) -> None:
        for client in self._clients:
            await client.aclose()


def context_of_app(app: FastAPI) -> AppContext:
    context: AppContext = app.state.context
    return context


@pytest.fixture
async def seed(app: FastAPI, database: Database, clock: FrozenClock) -> AsyncIterator[Seed]:
    builder = Seed(app, database, clock)
    try:
        yield builder
    finally:
        await builder.close()
