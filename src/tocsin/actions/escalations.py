"""Applying escalation steps to an incident: who a step pages, and what is due next.

Called by the escalation engine (a due step), and by incident actions that restart or
jump an escalation (reopen, reassign, escalate now). Every write is a conditional UPDATE on
``escalation_token``: if anything changed the incident's escalation since it was read (an
acknowledgement, another engine), the step is not applied and nothing is paged. Page rows
carry the token of the step that wrote them and are unique per (incident, token, user), so
a step can never page the same person twice.

Targets are resolved at the moment the step fires: a user (if still active), whoever a
schedule has on call at that instant, or every active admin and responder of a team. A
target that yields nobody is written on the timeline; a level that pages nobody at all
does not wait its delay, the next level is due at once.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from tocsin.actions import audit, escalation_policies, oncall, policy_snapshots
from tocsin.actions.actors import Actor, system_actor
from tocsin.db.models.incidents import Incident, Page
from tocsin.db.models.schedules import Schedule
from tocsin.db.models.teams import Team, TeamMembership
from tocsin.db.models.users import User
from tocsin.domain import escalation
from tocsin.domain.access import TeamRole
from tocsin.domain.incidents import IncidentStatus

ENGINE = system_actor("escalation engine")
WAKE_CHANNEL = "tocsin_engine"


@dataclass(frozen=True)
class EscalationState:
    """What a step needs to know about an incident, read while it is locked."""

    incident_id: uuid.UUID
    team_id: uuid.UUID
    policy: escalation.PolicySnapshot
    progress: escalation.Progress
    token: int


async def state_of(session: AsyncSession, incident: Incident) -> EscalationState:
    """The incident's escalation, freezing its policy first if this is its first step.

    Intake opens incidents without copying the policy (that would cost the hot path a
    few queries per alert); the first step copies it, once: the UPDATE only applies while
    no snapshot is stored, so two engines cannot freeze different versions.
    """
    if incident.escalation_snapshot is None:
        policy = (
            await escalation_policies.load_snapshot(session, incident.escalation_policy_id)
            if incident.escalation_policy_id
            else policy_snapshots.NO_POLICY
        )
        await session.execute(
            sa.update(Incident)
            .where(Incident.id == incident.id, Incident.escalation_snapshot.is_(None))
            .values(escalation_snapshot=policy.as_json())
            .execution_options(synchronize_session=False)
        )
        incident.escalation_snapshot = policy.as_json()
    return EscalationState(
        incident_id=incident.id,
        team_id=incident.team_id,
        policy=escalation.PolicySnapshot.from_json(incident.escalation_snapshot),
        progress=escalation.Progress(incident.escalation_level, incident.escalation_loop),
        token=incident.escalation_token,
    )


@dataclass(frozen=True)
class Recipient:
    user_id: uuid.UUID
    reason: str


async def advance(
    session: AsyncSession,
    state: EscalationState,
    *,
    now: datetime,
    step: escalation.Step | None = None,
    actor: Actor = ENGINE,
    cause: str | None = None,
) -> bool:
    """Apply ``step`` (default: the policy's next one) and every following step that pages
    nobody. Returns False when the incident's escalation changed meanwhile (nothing done)."""
    if not state.policy.levels:
        return await _nobody_to_page(session, state, now=now, actor=actor)
    current = state
    pending = step or escalation.next_step(state.policy, state.progress)
    # Bounded: each iteration moves to a later (level, loop), and there are at most
    # MAX_LEVELS * (MAX_REPEATS + 1) of them.
    for _ in range(escalation.MAX_LEVELS * (escalation.MAX_REPEATS + 1) + 1):
        if isinstance(pending, escalation.Exhausted):
            return await _exhaust(session, current, now=now, actor=actor)
        recipients, notes = await _recipients(
            session, pending.targets, team_id=current.team_id, now=now
        )
        token = current.token + 1
        next_due = pending.next_due(now, paged_anyone=bool(recipients))
        if not await _move(session, current, pending, token=token, next_due=next_due, now=now):
            return False
        await _write_pages(session, current.incident_id, pending, token, recipients, now)
        await audit.record(
            session,
            actor=actor,
            action="incident.escalated"
            if pending.level > 1 or pending.loop > 0
            else "incident.paged",
            resource_type="incident",
            resource_id=current.incident_id,
            team_id=current.team_id,
            now=now,
            details={
                "level": pending.level,
                "loop": pending.loop,
                "paged": [{"user_id": str(r.user_id), "reason": r.reason} for r in recipients],
                "notes": notes,
                "next_escalation_at": next_due.isoformat(),
                **({"cause": cause} if cause else {}),
            },
        )
        if recipients:
            return True
        current = EscalationState(
            current.incident_id,
            current.team_id,
            current.policy,
            escalation.Progress(pending.level, pending.loop),
            token,
        )
        pending = escalation.next_step(current.policy, current.progress)
        cause = f"level {current.progress.level} paged nobody"
    raise AssertionError("escalation did not terminate")  # unreachable: see the bound above


async def _move(
    session: AsyncSession,
    state: EscalationState,
    step: escalation.PageLevel,
    *,
    token: int,
    next_due: datetime,
    now: datetime,
) -> bool:
    moved = await session.execute(
        sa.update(Incident)
        .where(
            Incident.id == state.incident_id,
            Incident.escalation_token == state.token,
            Incident.status == IncidentStatus.TRIGGERED,
        )
        .values(
            escalation_level=step.level,
            escalation_loop=step.loop,
            escalation_token=token,
            next_escalation_at=next_due,
            escalation_exhausted_at=None,
            updated_at=now,
        )
    )
    return bool(moved.rowcount)  # type: ignore[attr-defined]


async def _nobody_to_page(
    session: AsyncSession, state: EscalationState, *, now: datetime, actor: Actor
) -> bool:
    stopped = await session.execute(
        sa.update(Incident)
        .where(
            Incident.id == state.incident_id,
            Incident.escalation_token == state.token,
            Incident.status == IncidentStatus.TRIGGERED,
        )
        .values(escalation_token=state.token + 1, next_escalation_at=None, updated_at=now)
    )
    if not stopped.rowcount:  # type: ignore[attr-defined]
        return False
    await audit.record(
        session,
        actor=actor,
        action="escalation.none",
        resource_type="incident",
        resource_id=state.incident_id,
        team_id=state.team_id,
        now=now,
        details={"reason": "the service has no escalation policy: nobody is paged"},
    )
    return True


async def _exhaust(
    session: AsyncSession, state: EscalationState, *, now: datetime, actor: Actor
) -> bool:
    moved = await session.execute(
        sa.update(Incident)
        .where(
            Incident.id == state.incident_id,
            Incident.escalation_token == state.token,
            Incident.status == IncidentStatus.TRIGGERED,
        )
        .values(
            escalation_token=state.token + 1,
            next_escalation_at=None,
            escalation_exhausted_at=now,
            updated_at=now,
        )
    )
    if not moved.rowcount:  # type: ignore[attr-defined]
        return False
    await audit.record(
        session,
        actor=actor,
        action="escalation.exhausted",
        resource_type="incident",
        resource_id=state.incident_id,
        team_id=state.team_id,
        now=now,
        details={
            "levels": len(state.policy.levels),
            "repeat_count": state.policy.repeat_count,
            "policy": state.policy.name,
        },
    )
    return True


async def _write_pages(
    session: AsyncSession,
    incident_id: uuid.UUID,
    step: escalation.PageLevel,
    token: int,
    recipients: list[Recipient],
    now: datetime,
) -> None:
    if not recipients:
        return
    await session.execute(
        insert(Page)
        .values(
            [
                {
                    "id": uuid.uuid4(),
                    "incident_id": incident_id,
                    "user_id": recipient.user_id,
                    "level": step.level,
                    "loop": step.loop,
                    "step_token": token,
                    "reason": recipient.reason[:500],
                    "created_at": now,
                }
                for recipient in recipients
            ]
        )
        .on_conflict_do_nothing(constraint="uq_page_incident_id_step_token_user_id")
    )


async def _recipients(
    session: AsyncSession,
    targets: tuple[escalation.Target, ...],
    *,
    team_id: uuid.UUID,
    now: datetime,
) -> tuple[list[Recipient], list[str]]:
    """Who ``targets`` page at ``now``, each person once, and notes for the timeline."""
    found: dict[uuid.UUID, Recipient] = {}
    notes: list[str] = []
    for target in targets:
        people, note = await _resolve(session, target, now=now)
        if note:
            notes.append(note)
        for user_id, reason in people:
            found.setdefault(user_id, Recipient(user_id, reason))
    if not found:
        notes.append("nobody was paged at this level")
    return list(found.values()), notes


async def _resolve(
    session: AsyncSession, target: escalation.Target, *, now: datetime
) -> tuple[list[tuple[uuid.UUID, str]], str | None]:
    if target.kind is escalation.TargetKind.USER:
        user = await session.get(User, target.id)
        if user is None or not user.is_active:
            return [], f"user {user.email if user else target.id} is deactivated and was not paged"
        return [(user.id, f"named in the escalation policy ({user.name})")], None
    if target.kind is escalation.TargetKind.SCHEDULE:
        schedule = await session.get(Schedule, target.id)
        name = schedule.name if schedule else str(target.id)
        on_call = await oncall.on_call_users(session, schedule_id=target.id, at=now)
        active = await _active(session, on_call)
        if not active:
            return [], f"nobody is on call on schedule {name}"
        return [(user_id, f"on call on schedule {name}") for user_id in active], None
    team = await session.get(Team, target.id)
    team_name = team.name if team else str(target.id)
    members = (
        await session.scalars(
            sa.select(User.id)
            .join(TeamMembership, TeamMembership.user_id == User.id)
            .where(
                TeamMembership.team_id == target.id,
                TeamMembership.role.in_([TeamRole.RESPONDER, TeamRole.ADMIN]),
                User.is_active.is_(True),
            )
            .order_by(User.name, User.id)
        )
    ).all()
    if not members:
        return [], f"team {team_name} has no active responders"
    return [(user_id, f"responder on team {team_name}") for user_id in members], None


async def _active(session: AsyncSession, user_ids: list[uuid.UUID]) -> list[uuid.UUID]:
    if not user_ids:
        return []
    active = set(
        (
            await session.scalars(
                sa.select(User.id).where(User.id.in_(user_ids), User.is_active.is_(True))
            )
        ).all()
    )
    return [user_id for user_id in user_ids if user_id in active]


async def wake_engine(session: AsyncSession) -> None:
    """Ask running engines to look for due work as soon as this transaction commits
    (PostgreSQL delivers NOTIFY at commit, and drops it on rollback)."""
    await session.execute(sa.select(sa.func.pg_notify(WAKE_CHANNEL, "")))
