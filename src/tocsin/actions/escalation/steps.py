"""Applying escalation steps to an incident: who a step pages, and what is due next.

Called by the escalation engine (a due step), and by incident actions that restart or
jump an escalation (reopen, reassign, escalate now). Every write is a conditional UPDATE on
``escalation_token``: if anything changed the incident's escalation since it was read (an
acknowledgement, another engine), the step is not applied and nothing is paged. Page rows
carry the token of the step that wrote them and are unique per (incident, token, user), so
a step can never page the same person twice.

Targets are resolved at the moment the step fires (``escalation_targets``). A target that
yields nobody is written on the timeline; a level that pages nobody at all does not wait
its delay, the next level is due at once. A step is one statement
(``escalation_statements.STEP``).
"""

from __future__ import annotations

import json
import uuid
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import set_committed_value

from tocsin.actions import audit
from tocsin.actions.actors import Actor, system_actor
from tocsin.actions.escalation import policies, statements
from tocsin.actions.escalation.targets import TargetResolver
from tocsin.db import driver
from tocsin.db.models.incidents import Incident, kept_version
from tocsin.domain import escalation, policy_snapshots
from tocsin.domain.incidents import IncidentStatus

ENGINE = system_actor("escalation engine")


@dataclass(frozen=True)
class EscalationState:
    """What a step needs to know about an incident, read while it is locked."""

    incident_id: uuid.UUID
    team_id: uuid.UUID
    policy: escalation.PolicySnapshot
    progress: escalation.Progress
    token: int


async def freeze_policies(session: AsyncSession, incidents: Sequence[Incident]) -> None:
    """Freeze the policy of every incident here that has none yet: one read per policy
    and one UPDATE per policy, instead of both for each incident. The engine freezes its
    whole claimed batch at once (often new incidents of the same few policies);
    ``state_of`` freezes one. The UPDATE applies only while no snapshot is stored, and the
    incidents must be locked by the caller, so two engines cannot freeze different
    versions."""
    unfrozen: dict[uuid.UUID | None, list[Incident]] = defaultdict(list)
    for incident in incidents:
        if incident.escalation_snapshot is None:
            unfrozen[incident.escalation_policy_id].append(incident)
    for policy_id, group in unfrozen.items():
        policy = (
            await policies.load_snapshot(session, policy_id)
            if policy_id
            else policy_snapshots.NO_POLICY
        )
        frozen = policy.as_json()
        await session.execute(
            sa.update(Incident)
            .where(
                Incident.id.in_([incident.id for incident in group]),
                Incident.escalation_snapshot.is_(None),
            )
            .values(escalation_snapshot=frozen)
            .execution_options(synchronize_session=False)
        )
        for incident in group:
            _loaded(incident, frozen)


def _loaded(incident: Incident, snapshot: dict[str, Any]) -> None:
    """The loaded incident now shows the snapshot the UPDATE stored. Set as the committed
    value, not as a change: a change would make the ORM write it again, row by row, at
    its next flush."""
    set_committed_value(incident, "escalation_snapshot", snapshot)


async def state_of(session: AsyncSession, incident: Incident) -> EscalationState:
    """The incident's escalation, freezing its policy first if this is its first step.

    Intake opens incidents without copying the policy (that would cost the hot path a
    few queries per alert); the first step copies it, once (``freeze_policies``).
    """
    await freeze_policies(session, [incident])
    snapshot = incident.escalation_snapshot
    assert snapshot is not None  # frozen just now if it was not already
    return EscalationState(
        incident_id=incident.id,
        team_id=incident.team_id,
        policy=escalation.PolicySnapshot.from_json(snapshot),
        progress=escalation.Progress(incident.escalation_level, incident.escalation_loop),
        token=incident.escalation_token,
    )


async def advance(
    session: AsyncSession,
    state: EscalationState,
    *,
    now: datetime,
    step: escalation.Step | None = None,
    actor: Actor = ENGINE,
    cause: str | None = None,
    targets: TargetResolver | None = None,
    wake_dispatch: bool = True,
) -> bool:
    """Apply ``step`` (default: the policy's next one) and every following step that pages
    nobody. Returns False when the incident's escalation changed meanwhile (nothing done).
    ``targets`` shares target answers across one engine tick. The pages written wake the
    engines' dispatch modules when this commits, unless ``wake_dispatch`` is false (the
    caller dispatches them itself, in this transaction)."""
    targets = targets or TargetResolver(now)
    if not state.policy.levels:
        return await _nobody_to_page(session, state, now=now, actor=actor)
    current = state
    pending = step or escalation.next_step(state.policy, state.progress)
    # Bounded: each iteration moves to a later (level, loop), and there are at most
    # MAX_LEVELS * (MAX_REPEATS + 1) of them.
    for _ in range(escalation.MAX_LEVELS * (escalation.MAX_REPEATS + 1) + 1):
        if isinstance(pending, escalation.Exhausted):
            return await _exhaust(session, current, now=now, actor=actor)
        recipients, notes = await targets.recipients(session, pending.targets)
        token = current.token + 1
        next_due = pending.next_due(now, paged_anyone=bool(recipients))
        details = {
            "level": pending.level,
            "loop": pending.loop,
            "paged": [{"user_id": str(r.user_id), "reason": r.reason} for r in recipients],
            "notes": notes,
            "next_escalation_at": next_due.isoformat(),
            **({"cause": cause} if cause else {}),
        }
        moved, _, _ = (
            await driver.execute(
                session,
                statements.STEP,
                {
                    "incident_id": current.incident_id,
                    "expected_token": current.token,
                    "token": token,
                    "level": pending.level,
                    "loop": pending.loop,
                    "next_due": next_due,
                    "now": now,
                    "recipients": json.dumps(
                        [{"user_id": str(r.user_id), "reason": r.reason} for r in recipients]
                    ),
                    "action": "incident.escalated"
                    if pending.level > 1 or pending.loop > 0
                    else "incident.paged",
                    "details": json.dumps(details),
                    "actor_kind": actor.principal.kind.value,
                    "actor_id": actor.principal.id,
                    "actor_label": actor.principal.label[:320],
                    "ip_address": actor.ip_address,
                    "user_agent": (actor.user_agent or "")[:512] or None,
                    # Pages are the dispatcher's queue: wake the engines when they commit.
                    "wake": wake_dispatch and bool(recipients),
                },
            )
        )[0]
        if not moved:
            return False
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
        .values(
            escalation_token=state.token + 1,
            next_escalation_at=None,
            updated_at=kept_version(now),
        )
        .execution_options(synchronize_session=False)
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
            updated_at=kept_version(now),
        )
        .execution_options(synchronize_session=False)
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
