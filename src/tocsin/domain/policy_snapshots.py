"""Snapshots an incident escalates by when it has no stored policy to copy.

An incident copies its policy when it opens (``escalation_policies.load_snapshot``), so
editing the policy later never changes an escalation in flight. These are the two
snapshots that no policy row stands behind.
"""

from __future__ import annotations

import uuid

from tocsin.domain import escalation

NO_POLICY = escalation.PolicySnapshot(policy_id=None, name="(none)", levels=(), repeat_count=0)


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
