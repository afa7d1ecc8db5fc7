"""Seeding benchmark databases through the real actions (as the system)."""

from __future__ import annotations

from tocsin.actions.actors import system_actor
from tocsin.actions.escalation import policies
from tocsin.actions.identity import teams, users
from tocsin.actions.services import integrations, services
from tocsin.actions.services.integration_settings import Destination
from tocsin.clock import SystemClock
from tocsin.db.models.integrations import IntegrationKind
from tocsin.db.session import Database
from tocsin.domain.access import TeamRole
from tocsin.domain.escalation import LevelSnapshot, Target, TargetKind
from tocsin.domain.incidents import UrgencyRule
from tocsin.security.encryption import Cipher

ACTOR = system_actor("benchmark seed")


async def seed_integration(
    url: str, *, kind: str = "generic", people: int = 2, page_everyone: bool = False
) -> str:
    """A team of ``people``, a two-level policy (level 1 pages the first person, or
    everyone with ``page_everyone``), a service and an integration; its key."""
    clock = SystemClock()
    database = Database(url, pool_size=2, max_overflow=0)
    try:
        async with database.transaction() as session:
            now = clock.now()
            team = await teams.create_team(session, actor=ACTOR, name="Checkout", now=now)
            members = []
            for number in range(people):
                user = await users.create_user(
                    session,
                    actor=ACTOR,
                    email=f"oncall{number}@example.com",
                    name=f"On-call {number}",
                    now=now,
                )
                await teams.add_member(
                    session,
                    actor=ACTOR,
                    team_id=team.id,
                    user_id=user.id,
                    role=TeamRole.RESPONDER,
                    now=now,
                )
                members.append(user)
            policy = await policies.create_policy(
                session,
                actor=ACTOR,
                team_id=team.id,
                name="Checkout on call",
                levels=[
                    LevelSnapshot(
                        5,
                        tuple(
                            Target(TargetKind.USER, member.id)
                            for member in (members if page_everyone else members[:1])
                        ),
                    ),
                    LevelSnapshot(10, (Target(TargetKind.USER, members[-1].id),)),
                ],
                repeat_count=0,
                now=now,
            )
            service = await services.create_service(
                session,
                actor=ACTOR,
                team_id=team.id,
                name="checkout",
                escalation_policy_id=policy.policy.id,
                urgency_rule=UrgencyRule.SEVERITY,
                ack_timeout_minutes=None,
                auto_resolve_hours=None,
                now=now,
            )
            saved = await integrations.create_integration(
                session,
                actor=ACTOR,
                cipher=Cipher(b"bench"),
                name="bench",
                kind=IntegrationKind(kind),
                destination=Destination(service_id=service.id),
                grouping_fields=(),
                grouping_window_minutes=None,
                signing=False,
                heartbeat_interval_minutes=None,
                now=now,
            )
            assert saved.key is not None
            return saved.key
    finally:
        await database.dispose()
