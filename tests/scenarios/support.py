"""What the alert pipeline scenarios share: an on-call crew to page, the shipped example
bodies, and readers for the rows the pipeline writes beyond incidents and pages.

Builders here are plain coroutines rather than fixtures, so each test shows its seed step.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from tests.builders import Seed
from tests.scenarios.conftest import World
from tocsin import ingest
from tocsin.db.models.escalation_policies import EscalationPolicy
from tocsin.db.models.incidents import Alert, Incident
from tocsin.db.models.integrations import InboundEvent
from tocsin.db.models.services import ChangeEvent, Service
from tocsin.db.models.teams import Team
from tocsin.db.models.users import User
from tocsin.domain.access import TeamRole

EXAMPLES = Path(ingest.__file__).parent / "examples"


def example(format_name: str, case: str) -> dict[str, Any]:
    """A shipped example body (``ingest/examples/<format>/<case>.json``), parsed."""
    loaded: dict[str, Any] = json.loads((EXAMPLES / format_name / f"{case}.json").read_text())
    return loaded


@dataclass(frozen=True)
class Crew:
    """A team whose service pages Alice at once and Bob five minutes later."""

    alice: User
    bob: User
    carol: User  # the team's admin: may respond, is never paged
    team: Team
    policy: EscalationPolicy
    service: Service


async def crew(
    seed: Seed,
    name: str = "Payments",
    *,
    auto_resolve_hours: int | None = None,
    ack_timeout_minutes: int | None = None,
    urgency_rule: str = "severity",
) -> Crew:
    alice = await seed.user(f"Alice {name}")
    bob = await seed.user(f"Bob {name}")
    carol = await seed.user(f"Carol {name}")
    team = await seed.team(
        name, [(alice, TeamRole.RESPONDER), (bob, TeamRole.RESPONDER), (carol, TeamRole.ADMIN)]
    )
    policy = await seed.policy(team, [(5, [alice]), (10, [bob])])
    service = await seed.service(
        team,
        policy,
        auto_resolve_hours=auto_resolve_hours,
        ack_timeout_minutes=ack_timeout_minutes,
        urgency_rule=urgency_rule,
        name=f"{name} API",
    )
    return Crew(alice, bob, carol, team, policy, service)


class Records(World):
    """``World`` plus the rows only the intake writes."""

    async def alert(self, dedup_key: str) -> Alert:
        found = [alert for alert in await self.alerts() if alert.dedup_key == dedup_key]
        assert len(found) == 1, f"expected one alert {dedup_key!r}, found {len(found)}"
        return found[0]

    async def alerts_of(self, incident: Incident) -> list[Alert]:
        return [alert for alert in await self.alerts() if alert.incident_id == incident.id]

    async def change_events(self) -> list[ChangeEvent]:
        async with self.database.transaction() as session:
            return list(
                (
                    await session.scalars(sa.select(ChangeEvent).order_by(ChangeEvent.received_at))
                ).all()
            )

    async def inbound_events(self) -> list[InboundEvent]:
        async with self.database.transaction() as session:
            return list(
                (await session.scalars(sa.select(InboundEvent).order_by(InboundEvent.id))).all()
            )

    async def actions(self, incident: Incident) -> list[str]:
        return [action for action, _ in await self.timeline(incident)]

    async def paged(self, incident: Incident | None = None) -> list[str]:
        """The names of the people paged, in order."""
        return [name for name, _, _ in await self.pages(incident)]
