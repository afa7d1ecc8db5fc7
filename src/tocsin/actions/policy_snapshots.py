"""Freezing an escalation policy into the snapshot an incident escalates by.

An incident copies its policy when it opens (or is reassigned), so editing the policy
later never changes an escalation in flight.
"""

from __future__ import annotations

import uuid

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from tocsin.db.models.escalation_policies import (
    EscalationLevel,
    EscalationPolicy,
    EscalationTarget,
)
from tocsin.domain import escalation
from tocsin.errors import NotFound

NO_POLICY = escalation.PolicySnapshot(policy_id=None, name="(none)", levels=(), repeat_count=0)


async def load_snapshot(session: AsyncSession, policy_id: uuid.UUID) -> escalation.PolicySnapshot:
    policy = await session.get(EscalationPolicy, policy_id)
    if policy is None:
        raise NotFound("escalation policy", policy_id)
    rows = await session.execute(
        sa.select(EscalationLevel, EscalationTarget)
        .join(EscalationTarget, EscalationTarget.level_id == EscalationLevel.id)
        .where(EscalationLevel.policy_id == policy_id)
        .order_by(EscalationLevel.position, EscalationTarget.id)
    )
    levels: dict[int, tuple[int, list[escalation.Target]]] = {}
    for level, target in rows:
        _, targets = levels.setdefault(level.position, (level.delay_minutes, []))
        target_id = target.user_id or target.schedule_id or target.team_id
        assert target_id is not None  # the one_target CHECK constraint guarantees it
        targets.append(escalation.Target(target.kind, target_id))
    return escalation.PolicySnapshot(
        policy_id=policy.id,
        name=policy.name,
        repeat_count=policy.repeat_count,
        levels=tuple(
            escalation.LevelSnapshot(delay_minutes=delay, targets=tuple(targets))
            for _, (delay, targets) in sorted(levels.items())
        ),
    )


def single_user(user_id: uuid.UUID, *, name: str, delay_minutes: int) -> escalation.PolicySnapshot:
    """The policy of an incident reassigned to one person: page them, and repeat at the
    same interval (up to the maximum) until someone acknowledges."""
    return escalation.PolicySnapshot(
        policy_id=None,
        name=f"reassigned to {name}",
        repeat_count=escalation.MAX_REPEATS,
        levels=(
            escalation.LevelSnapshot(
                delay_minutes=delay_minutes,
                targets=(escalation.Target(escalation.TargetKind.USER, user_id),),
            ),
        ),
    )
