"""How far this installation is through its first set-up, for the home page's checklist.

The order is the one the rules impose (a policy can only page a schedule that exists, a
service pages through a policy, an integration sends to a service), ending with the proof
that it works: a test alert arrives and pages the person reading, who acknowledges it.

Every step is read from the data itself, never from a flag someone must remember to set,
so a step done through the API or the CLI is ticked too. All of it is one statement of
``EXISTS`` probes, each stopping at its first row: the home page pays one round trip,
however large the installation has grown.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from tocsin.actions.actors import Actor
from tocsin.db.models.escalation_policies import EscalationTarget
from tocsin.db.models.incidents import Alert, Incident, Page
from tocsin.db.models.integrations import Integration
from tocsin.db.models.schedules import ScheduleLayerParticipant
from tocsin.db.models.services import Service
from tocsin.db.models.teams import Team, TeamMembership
from tocsin.domain.access import Action, TeamRole, authorize


@dataclass(frozen=True)
class Progress:
    team: bool
    # Someone on a team who can be paged (a responder or an admin).
    people: bool
    # A schedule with someone on one of its layers.
    schedule: bool
    # An escalation policy with at least one target.
    policy: bool
    # A service that pages through a policy.
    service: bool
    integration: bool
    # An alert has come in through an integration (a test alert or a real one).
    alert: bool
    # The reader was paged for an incident and acknowledged (or resolved) it themselves.
    paged_and_acknowledged: bool
    # Where the "people" and "send a test alert" steps link to, once there is one.
    first_team_id: uuid.UUID | None
    first_integration_id: uuid.UUID | None

    @property
    def complete(self) -> bool:
        return all(
            (
                self.team,
                self.people,
                self.schedule,
                self.policy,
                self.service,
                self.integration,
                self.alert,
                self.paged_and_acknowledged,
            )
        )


async def progress(session: AsyncSession, *, actor: Actor, user_id: uuid.UUID) -> Progress:
    authorize(actor.principal, Action.READ_TEAMS)
    pageable = (TeamRole.RESPONDER, TeamRole.ADMIN)
    handled_by_me = sa.or_(
        Incident.acknowledged_by_user_id == user_id, Incident.resolved_by_user_id == user_id
    )
    row = (
        await session.execute(
            sa.select(
                sa.exists().where(Team.id.is_not(None)),
                sa.exists().where(TeamMembership.role.in_(pageable)),
                sa.exists().where(ScheduleLayerParticipant.user_id.is_not(None)),
                sa.exists().where(EscalationTarget.id.is_not(None)),
                sa.exists().where(Service.escalation_policy_id.is_not(None)),
                sa.exists().where(Integration.id.is_not(None)),
                sa.exists().where(Alert.integration_id.is_not(None)),
                sa.exists()
                .where(Page.user_id == user_id, Page.incident_id == Incident.id)
                .where(handled_by_me),
                sa.select(Team.id).order_by(Team.created_at, Team.id).limit(1).scalar_subquery(),
                sa.select(Integration.id)
                .order_by(Integration.created_at, Integration.id)
                .limit(1)
                .scalar_subquery(),
            )
        )
    ).one()
    return Progress(
        team=row[0],
        people=row[1],
        schedule=row[2],
        policy=row[3],
        service=row[4],
        integration=row[5],
        alert=row[6],
        paged_and_acknowledged=row[7],
        first_team_id=row[8],
        first_integration_id=row[9],
    )
