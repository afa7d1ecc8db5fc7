"""What the alert pipeline scenarios share: an on-call crew to page, the shipped example
bodies, and readers for the rows the pipeline writes beyond incidents and pages.

Builders here are plain coroutines rather than fixtures, so each test shows its seed step.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
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
from tocsin.ingest import signatures

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


Headers = Callable[[bytes], dict[str, str]]


def _no_headers(body: bytes) -> dict[str, str]:
    return {}


@dataclass(frozen=True)
class IntakePath:
    """One URL alert bodies are posted to: a body it accepts, the headers each body needs
    (a signature is computed per body), and the shape of its refusals."""

    name: str
    url: str
    body: dict[str, Any]
    # Refusals in PagerDuty's body (``/v2/enqueue``), else problem+json naming ``field``.
    pagerduty: bool = False
    headers: Headers = field(default=_no_headers)

    async def post(self, client: httpx.AsyncClient, body: bytes) -> httpx.Response:
        headers = {"content-type": "application/json", **self.headers(body)}
        return await client.post(self.url, content=body, headers=headers)

    def refused_field(self, response: httpx.Response) -> str:
        """The field a refusal names, after checking it is in this path's own shape."""
        answer = response.json()
        if self.pagerduty:
            assert answer["status"] == "invalid event", answer
            assert answer["message"] == "Event object is invalid", answer
            first: str = answer["errors"][0]
            return first
        assert response.headers["content-type"] == "application/problem+json", answer
        named: str = answer["field"]
        return named


async def intake_paths(seed: Seed, service: Service) -> list[IntakePath]:
    """Every intake URL, each on an integration of its own sending to ``service``."""

    async def key(kind: str) -> str:
        return (await seed.integration(service, kind=kind))[1]

    signed, signed_key = await seed.integration(service, signing=True)
    secret = seed.signing_secret(signed)

    def sign(body: bytes) -> dict[str, str]:
        # A new delivery each time: the same id with another body is a reused key.
        msg_id = f"msg_{uuid.uuid4().hex}"
        return signatures.sign(body, secret, msg_id=msg_id, timestamp=seed.clock.now())

    paths = [
        IntakePath(f"/ingest {kind}", f"/ingest/{await key(kind)}", example(kind, case))
        for kind, case in [
            ("generic", "trigger"),
            ("alertmanager", "firing_two_alerts"),
            ("grafana", "firing"),
            ("datadog", "triggered"),
            ("newrelic", "activated"),
            ("pagerduty_events_v2", "trigger"),
            ("opsgenie", "create"),
        ]
    ]
    header_key = await key("generic")
    pagerduty = await key("pagerduty_events_v2")
    opsgenie = await key("opsgenie")
    genie = {"Authorization": f"GenieKey {opsgenie}"}
    alias = example("opsgenie", "create")["alias"]
    return [
        *paths,
        IntakePath(
            "/ingest signed generic",
            f"/ingest/{signed_key}",
            example("generic", "trigger"),
            headers=sign,
        ),
        IntakePath(
            "/ingest key in header",
            "/ingest",
            example("generic", "trigger"),
            headers=lambda body: {"X-Tocsin-Integration-Key": header_key},
        ),
        IntakePath(
            "/v2/enqueue",
            "/v2/enqueue",
            {**example("pagerduty_events_v2", "trigger"), "routing_key": pagerduty},
            pagerduty=True,
        ),
        IntakePath(
            "/v2/change/enqueue",
            "/v2/change/enqueue",
            {**example("pagerduty_events_v2", "change_event"), "routing_key": pagerduty},
            pagerduty=True,
        ),
        IntakePath(
            "/v2/alerts", "/v2/alerts", example("opsgenie", "create"), headers=lambda _: genie
        ),
        *(
            IntakePath(
                f"/v2/alerts/{{alias}}/{action}",
                f"/v2/alerts/{alias}/{action}?identifierType=alias",
                example("opsgenie", f"{verb}_by_alias"),
                headers=lambda _: genie,
            )
            for action, verb in [("acknowledge", "acknowledge"), ("close", "close")]
        ),
    ]
