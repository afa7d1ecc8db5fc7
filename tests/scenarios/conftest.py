"""Scenario fixtures in the GoAlert style: a frozen clock, an engine ticked by hand, and
small readers that say what happened (pages, incidents, the timeline)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from fastapi import FastAPI

from tests.builders import context_of_app
from tocsin.clock import FrozenClock
from tocsin.db.models.audit import AuditEvent
from tocsin.db.models.incidents import Alert, Incident, Page
from tocsin.db.models.users import User
from tocsin.db.session import Database
from tocsin.engine.loop import Engine


@pytest.fixture
def engine(app: FastAPI, database: Database, clock: FrozenClock) -> Engine:
    return Engine(database, clock, context_of_app(app).metrics)


@pytest.fixture
def settings_url(database_url: str) -> str:
    """The scenario's database, for engines and workers that bring their own pools."""
    return database_url


@dataclass
class World:
    """Reads the outcome of a scenario straight from the database."""

    database: Database

    async def incidents(self) -> list[Incident]:
        async with self.database.transaction() as session:
            return list(
                (await session.scalars(sa.select(Incident).order_by(Incident.number))).all()
            )

    async def incident(self, number: int | None = None) -> Incident:
        found = await self.incidents()
        if number is None:
            assert len(found) == 1, f"expected one incident, found {len(found)}"
            return found[0]
        return next(incident for incident in found if incident.number == number)

    async def pages(self, incident: Incident | None = None) -> list[tuple[str, int, int]]:
        """(user name, level, loop) of every page, in order."""
        async with self.database.transaction() as session:
            query = sa.select(User.name, Page.level, Page.loop).join(User, User.id == Page.user_id)
            if incident is not None:
                query = query.where(Page.incident_id == incident.id)
            rows = await session.execute(
                query.order_by(Page.created_at, Page.step_token, User.name)
            )
            return [(name, level, loop) for name, level, loop in rows]

    async def alerts(self) -> list[Alert]:
        async with self.database.transaction() as session:
            return list(
                (await session.scalars(sa.select(Alert).order_by(Alert.first_seen_at))).all()
            )

    async def timeline(self, incident: Incident) -> list[tuple[str, dict[str, Any]]]:
        async with self.database.transaction() as session:
            rows = await session.execute(
                sa.select(AuditEvent.action, AuditEvent.details)
                .where(
                    AuditEvent.resource_type == "incident",
                    AuditEvent.resource_id == str(incident.id),
                )
                .order_by(AuditEvent.id)
            )
            return [(action, details) for action, details in rows]


@pytest.fixture
def world(database: Database) -> World:
    return World(database)


async def send(
    client: httpx.AsyncClient, key: str, body: dict[str, Any], **headers: str
) -> httpx.Response:
    return await client.post(f"/ingest/{key}", json=body, headers=headers)


def trigger(dedup_key: str, title: str = "Disk full on db-1", **fields: Any) -> dict[str, Any]:
    """A generic-format trigger."""
    return {"title": title, "dedup_key": dedup_key, "severity": "critical", **fields}


def new_id() -> uuid.UUID:
    return uuid.uuid4()
