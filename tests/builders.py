"""Fixtures that build an app and the people, teams and keys a test needs.

``seed`` writes through the real actions (as the system), so seeded data is exactly what
the product itself would have written, audit events included.
"""

from __future__ import annotations

import itertools
import uuid
from collections.abc import AsyncIterator, Iterable, Sequence
from dataclasses import dataclass, field

import httpx
import pytest
from fastapi import FastAPI

from tocsin.actions.actors import system_actor
from tocsin.actions.escalation import policies
from tocsin.actions.identity import api_keys, logins, teams, users
from tocsin.actions.services import integrations, services
from tocsin.actions.services.integration_settings import Destination
from tocsin.app import create_app
from tocsin.clock import FrozenClock
from tocsin.config import Settings
from tocsin.db.models.contact_methods import ContactMethod
from tocsin.db.models.escalation_policies import EscalationPolicy
from tocsin.db.models.integrations import Integration, IntegrationKind
from tocsin.db.models.schedules import Schedule
from tocsin.db.models.services import Service
from tocsin.db.models.teams import Team
from tocsin.db.models.users import User
from tocsin.db.session import Database
from tocsin.domain import routing
from tocsin.domain.access import Scope, TeamRole
from tocsin.domain.channels import ChannelKind
from tocsin.domain.escalation import LevelSnapshot, Target, TargetKind
from tocsin.domain.incidents import UrgencyRule
from tocsin.http import csrf
from tocsin.http.context import AppContext
from tocsin.metrics import Metrics
from tocsin.security.encryption import Cipher

BASE_URL = "https://tocsin.test"
PASSWORD = "correct horse battery staple"
SECRET = b"test-secret-key-not-for-production"
# What an escalation level may target, as the builders take it.
Paged = User | Schedule | Team
# A routing rule as the builders take it: the service, and (field, operator, value)s.
Route = tuple[Service, Sequence[tuple[str, str, str]]]


@pytest.fixture
def app(settings: Settings, clock: FrozenClock, database: Database) -> FastAPI:
    return create_app(
        settings=settings,
        clock=clock,
        database=database,
        secret=SECRET,
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

    async def policy(
        self,
        team: Team,
        levels: Sequence[tuple[int, Sequence[Paged]]],
        repeat_count: int = 0,
        *,
        name: str | None = None,
    ) -> EscalationPolicy:
        """``levels`` is ``[(delay_minutes, [user, schedule or team, ...]), ...]``."""
        async with self.database.transaction() as session:
            loaded = await policies.create_policy(
                session,
                actor=system_actor("test seed"),
                team_id=team.id,
                name=name or f"Policy {next(self._counter)}",
                levels=[
                    LevelSnapshot(delay, tuple(_target(paged) for paged in targets))
                    for delay, targets in levels
                ],
                repeat_count=repeat_count,
                now=self.clock.now(),
            )
            return loaded.policy

    async def service(
        self,
        team: Team,
        policy: EscalationPolicy | None = None,
        urgency_rule: str = "severity",
        ack_timeout_minutes: int | None = None,
        auto_resolve_hours: int | None = None,
        name: str | None = None,
    ) -> Service:
        async with self.database.transaction() as session:
            return await services.create_service(
                session,
                actor=system_actor("test seed"),
                team_id=team.id,
                name=name or f"Service {next(self._counter)}",
                escalation_policy_id=policy.id if policy else None,
                urgency_rule=UrgencyRule(urgency_rule),
                ack_timeout_minutes=ack_timeout_minutes,
                auto_resolve_hours=auto_resolve_hours,
                now=self.clock.now(),
            )

    async def verified_method(
        self, user: User, kind: ChannelKind, address: str, label: str = ""
    ) -> ContactMethod:
        """A contact method already verified (what a person's proof made it)."""
        now = self.clock.now()
        method = ContactMethod(
            id=uuid.uuid4(),
            user_id=user.id,
            kind=kind,
            label=label or kind.value,
            address=address,
            details={},
            verified_at=now,
            created_at=now,
            updated_at=now,
        )
        async with self.database.transaction() as session:
            session.add(method)
        return method

    async def integration(
        self,
        service: Service,
        kind: str = "generic",
        grouping_fields: Sequence[str] = (),
        grouping_window_minutes: int | None = None,
        signing: bool = False,
        *,
        name: str | None = None,
        routes: Sequence[Route] = (),
        heartbeat_interval_minutes: int | None = None,
    ) -> tuple[Integration, str]:
        """An integration sending to ``service`` and its plaintext key. With ``routes``,
        ``service`` is the fallback behind those rules. A heartbeat's interval defaults to
        5 minutes. ``signing_secret(integration)`` reads a signed one's secret back."""
        integration_kind = IntegrationKind(kind)
        if integration_kind is IntegrationKind.HEARTBEAT and heartbeat_interval_minutes is None:
            heartbeat_interval_minutes = 5
        if routes:
            rules = tuple(
                routing.Rule(
                    target.id,
                    tuple(
                        routing.Condition(field, routing.Operator(operator), value)
                        for field, operator, value in conditions
                    ),
                )
                for target, conditions in routes
            )
            destination = Destination(rules=rules, fallback_service_id=service.id)
        else:
            destination = Destination(service_id=service.id)
        async with self.database.transaction() as session:
            saved = await integrations.create_integration(
                session,
                actor=system_actor("test seed"),
                cipher=self.cipher,
                name=name or f"Integration {next(self._counter)}",
                kind=integration_kind,
                destination=destination,
                grouping_fields=grouping_fields,
                grouping_window_minutes=grouping_window_minutes,
                signing=signing,
                heartbeat_interval_minutes=heartbeat_interval_minutes,
                now=self.clock.now(),
            )
        assert saved.key is not None  # a new integration always gets a key
        return saved.loaded.integration, saved.key

    def signing_secret(self, integration: Integration) -> str:
        """The plaintext signing secret of a signed integration, as shown at creation."""
        secret = integrations.signing_secret_of(integration, self.cipher)
        assert secret is not None, f"integration {integration.name} is not signed"
        return secret

    @property
    def cipher(self) -> Cipher:
        return Cipher(SECRET)

    async def close(self) -> None:
        for client in self._clients:
            await client.aclose()


def _target(paged: Paged) -> Target:
    if isinstance(paged, User):
        return Target(TargetKind.USER, paged.id)
    if isinstance(paged, Schedule):
        return Target(TargetKind.SCHEDULE, paged.id)
    return Target(TargetKind.TEAM, paged.id)


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
