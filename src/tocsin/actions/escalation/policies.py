"""Escalation policies: who is paged, in which order, and how long each level waits.

A team's admins manage its policies; anyone signed in reads them. Levels are always
written as a whole, ordered list (positions 1..n, so there are no gaps), each with 1 to 20
distinct targets: an active user, a schedule (whoever is on call when the level fires) or
a team (its admins and responders). A target may belong to another team: escalating to
the database team's on-call is a real need.

Editing a policy never touches incidents in flight: each keeps the snapshot it was opened
with (``load_snapshot``). A policy that a service uses cannot be deleted; the refusal
names the services.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from tocsin.actions import audit
from tocsin.actions.actors import Actor
from tocsin.actions.references import existing, names
from tocsin.actions.services.services import clean_text
from tocsin.db import keyset
from tocsin.db.constraints import flush_restricted, flush_unique
from tocsin.db.models.escalation_policies import (
    EscalationLevel,
    EscalationPolicy,
    EscalationTarget,
)
from tocsin.db.models.schedules import Schedule
from tocsin.db.models.services import Service
from tocsin.db.models.teams import Team
from tocsin.db.models.users import User
from tocsin.domain import escalation
from tocsin.domain.access import Action, authorize
from tocsin.domain.escalation import LevelSnapshot, Target, TargetKind
from tocsin.errors import Conflict, InvalidInput, NotFound

_NAME_UNIQUE = "uq_escalation_policy_team_id_name_lower"
MAX_TARGETS = 20


@dataclass(frozen=True)
class LoadedPolicy:
    policy: EscalationPolicy
    levels: tuple[LevelSnapshot, ...]


@dataclass(frozen=True)
class PolicyChanges:
    """Fields to change; ``None`` leaves a field as it is. ``levels`` replaces them all."""

    name: str | None = None
    description: str | None = None
    repeat_count: int | None = None
    levels: Sequence[LevelSnapshot] | None = None


async def create_policy(
    session: AsyncSession,
    *,
    actor: Actor,
    team_id: uuid.UUID,
    name: str,
    levels: Sequence[LevelSnapshot],
    now: datetime,
    description: str = "",
    repeat_count: int = 0,
) -> LoadedPolicy:
    await existing(session, Team, team_id, field="team_id", resource="team")
    authorize(actor.principal, Action.MANAGE_POLICIES, team_id=team_id)
    await check_levels(session, levels)
    policy = EscalationPolicy(
        id=uuid.uuid4(),
        team_id=team_id,
        name=clean_text(name, "name", 100),
        description=description.strip(),
        repeat_count=_repeat_count(repeat_count),
        created_at=now,
        updated_at=now,
    )
    session.add(policy)
    await flush_unique(
        session, resource="escalation policy", fields={_NAME_UNIQUE: ("name", policy.name)}
    )
    await _write_levels(session, policy.id, levels)
    loaded = LoadedPolicy(policy, tuple(levels))
    await _audit(session, actor, "policy.created", policy, now, _details(loaded))
    return loaded


async def update_policy(
    session: AsyncSession,
    *,
    actor: Actor,
    policy_id: uuid.UUID,
    changes: PolicyChanges,
    now: datetime,
) -> LoadedPolicy:
    """Incidents already open keep escalating by the snapshot they were opened with."""
    policy = await _locked(session, actor, policy_id)
    current = await _levels_of(session, [policy.id])
    levels = current.get(policy.id, ())
    changed: list[str] = []
    if changes.name is not None and clean_text(changes.name, "name", 100) != policy.name:
        policy.name = clean_text(changes.name, "name", 100)
        changed.append("name")
    if changes.description is not None and changes.description.strip() != policy.description:
        policy.description = changes.description.strip()
        changed.append("description")
    if changes.repeat_count is not None and changes.repeat_count != policy.repeat_count:
        policy.repeat_count = _repeat_count(changes.repeat_count)
        changed.append("repeat_count")
    if changes.levels is not None and tuple(changes.levels) != levels:
        await check_levels(session, changes.levels)
        # Core DELETE first: the unit of work would insert the new positions before
        # deleting the old ones and trip the (policy, position) unique constraint.
        await session.execute(
            sa.delete(EscalationLevel).where(EscalationLevel.policy_id == policy.id)
        )
        await _write_levels(session, policy.id, changes.levels)
        levels = tuple(changes.levels)
        changed.append("levels")
    loaded = LoadedPolicy(policy, levels)
    if not changed:
        return loaded
    policy.updated_at = now
    await flush_unique(
        session, resource="escalation policy", fields={_NAME_UNIQUE: ("name", policy.name)}
    )
    await _audit(
        session, actor, "policy.updated", policy, now, {"changed": changed, **_details(loaded)}
    )
    return loaded


async def delete_policy(
    session: AsyncSession, *, actor: Actor, policy_id: uuid.UUID, now: datetime
) -> None:
    # Locked first: a service being pointed at this policy takes a key-share lock on the
    # row, so the check below sees every service that will ever use it.
    policy = await _locked(session, actor, policy_id)
    users = list(
        await session.scalars(
            sa.select(Service.name)
            .where(Service.escalation_policy_id == policy.id)
            .order_by(Service.name)
        )
    )
    if users:
        raise Conflict(
            f"escalation policy {policy.name!r} is used by services {names(users)}; "
            "give them another policy first",
            used_by={"services": users},
        )
    await session.delete(policy)
    await flush_restricted(session, detail=f"escalation policy {policy.name!r} is still in use")
    await _audit(session, actor, "policy.deleted", policy, now, {"name": policy.name})


async def get_policy(session: AsyncSession, *, actor: Actor, policy_id: uuid.UUID) -> LoadedPolicy:
    authorize(actor.principal, Action.READ_POLICIES)
    return await load(session, policy_id)


async def list_policies(
    session: AsyncSession,
    *,
    actor: Actor,
    cursor: str | None,
    limit: int,
    team_id: uuid.UUID | None = None,
) -> keyset.Page[LoadedPolicy]:
    authorize(actor.principal, Action.READ_POLICIES)
    query = sa.select(EscalationPolicy)
    if team_id is not None:
        query = query.where(EscalationPolicy.team_id == team_id)
    page = await keyset.fetch_page(
        session, query, key=EscalationPolicy.id, cursor=cursor, limit=limit
    )
    levels = await _levels_of(session, [policy.id for policy in page.items])
    return keyset.Page(
        [LoadedPolicy(policy, levels.get(policy.id, ())) for policy in page.items],
        page.next_cursor,
    )


async def load(session: AsyncSession, policy_id: uuid.UUID) -> LoadedPolicy:
    policy = await session.get(EscalationPolicy, policy_id)
    if policy is None:
        raise NotFound("escalation policy", policy_id)
    levels = await _levels_of(session, [policy.id])
    return LoadedPolicy(policy, levels.get(policy.id, ()))


async def load_snapshot(session: AsyncSession, policy_id: uuid.UUID) -> escalation.PolicySnapshot:
    """The policy as an incident freezes it; used when an incident is opened or reassigned.

    Trusted (no actor): the pipeline and incident actions call it. Raises ``NotFound``
    when the policy does not exist.
    """
    loaded = await load(session, policy_id)
    return escalation.PolicySnapshot(
        policy_id=loaded.policy.id,
        name=loaded.policy.name,
        levels=loaded.levels,
        repeat_count=loaded.policy.repeat_count,
    )


async def check_levels(session: AsyncSession, levels: Sequence[LevelSnapshot]) -> None:
    """Refuse levels that break a rule, naming the field path (``levels[1].targets[0].id``).

    Every target must exist (a user must also be active) and is share-locked, so that it
    cannot be deleted before this change commits.
    """
    if not levels:
        raise InvalidInput("levels", "a policy needs at least one level, with someone to page")
    if len(levels) > escalation.MAX_LEVELS:
        raise InvalidInput("levels", f"a policy has at most {escalation.MAX_LEVELS} levels")
    for index, level in enumerate(levels):
        path = f"levels[{index}]"
        if not 1 <= level.delay_minutes <= escalation.MAX_DELAY_MINUTES:
            raise InvalidInput(
                f"{path}.delay_minutes",
                f"a level waits 1 to {escalation.MAX_DELAY_MINUTES} minutes",
            )
        if not level.targets:
            raise InvalidInput(
                f"{path}.targets",
                f"level {index + 1} has no target: choose a person, a schedule or a team",
            )
        if len(level.targets) > MAX_TARGETS:
            raise InvalidInput(f"{path}.targets", f"a level has at most {MAX_TARGETS} targets")
        seen: set[Target] = set()
        for position, target in enumerate(level.targets):
            if target in seen:
                raise InvalidInput(
                    f"{path}.targets[{position}]",
                    f"{target.kind.value} {target.id} is already a target of this level",
                )
            seen.add(target)
    await _check_targets_exist(session, levels)


async def _check_targets_exist(session: AsyncSession, levels: Sequence[LevelSnapshot]) -> None:
    wanted: dict[TargetKind, set[uuid.UUID]] = defaultdict(set)
    for level in levels:
        for target in level.targets:
            wanted[target.kind].add(target.id)
    users = {
        user_id: active
        for user_id, active in await session.execute(
            sa.select(User.id, User.is_active)
            .where(User.id.in_(wanted[TargetKind.USER]))
            .with_for_update(key_share=True)
        )
    }
    found: dict[TargetKind, set[uuid.UUID]] = {TargetKind.USER: set(users)}
    for kind, model in ((TargetKind.SCHEDULE, Schedule), (TargetKind.TEAM, Team)):
        found[kind] = set(
            await session.scalars(
                sa.select(model.id)
                .where(model.id.in_(wanted[kind]))
                .with_for_update(key_share=True)
            )
        )
    for index, level in enumerate(levels):
        for position, target in enumerate(level.targets):
            field = f"levels[{index}].targets[{position}].id"
            if target.id not in found[target.kind]:
                raise InvalidInput(field, f"{target.kind.value} {target.id} does not exist")
            if target.kind is TargetKind.USER and not users[target.id]:
                raise InvalidInput(field, f"user {target.id} is deactivated")


async def _write_levels(
    session: AsyncSession, policy_id: uuid.UUID, levels: Sequence[LevelSnapshot]
) -> None:
    for position, level in enumerate(levels, start=1):
        row = EscalationLevel(
            id=uuid.uuid4(),
            policy_id=policy_id,
            position=position,
            delay_minutes=level.delay_minutes,
        )
        session.add(row)
        session.add_all(
            EscalationTarget(
                id=uuid.uuid4(),
                level_id=row.id,
                position=index,
                kind=target.kind,
                user_id=target.id if target.kind is TargetKind.USER else None,
                schedule_id=target.id if target.kind is TargetKind.SCHEDULE else None,
                team_id=target.id if target.kind is TargetKind.TEAM else None,
            )
            for index, target in enumerate(level.targets)
        )
        # Levels before their targets: there is no ORM relationship to order the inserts.
        await session.flush()
    await flush_restricted(session, detail="a target was deleted while the policy was saved")


async def _levels_of(
    session: AsyncSession, policy_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, tuple[LevelSnapshot, ...]]:
    if not policy_ids:
        return {}
    rows = await session.execute(
        sa.select(EscalationLevel, EscalationTarget)
        .join(EscalationTarget, EscalationTarget.level_id == EscalationLevel.id)
        .where(EscalationLevel.policy_id.in_(policy_ids))
        .order_by(EscalationLevel.policy_id, EscalationLevel.position, EscalationTarget.position)
    )
    grouped: dict[uuid.UUID, dict[int, tuple[int, list[Target]]]] = defaultdict(dict)
    for level, target in rows:
        _, targets = grouped[level.policy_id].setdefault(level.position, (level.delay_minutes, []))
        target_id = target.user_id or target.schedule_id or target.team_id
        assert target_id is not None  # the one_target CHECK constraint guarantees it
        targets.append(Target(target.kind, target_id))
    return {
        policy_id: tuple(
            LevelSnapshot(delay_minutes=delay, targets=tuple(targets))
            for _, (delay, targets) in sorted(by_position.items())
        )
        for policy_id, by_position in grouped.items()
    }


async def _locked(session: AsyncSession, actor: Actor, policy_id: uuid.UUID) -> EscalationPolicy:
    # Edits lock the policy row: two concurrent level rewrites serialise instead of
    # interleaving their deletes and inserts.
    policy = await session.get(EscalationPolicy, policy_id, with_for_update=True)
    if policy is None:
        raise NotFound("escalation policy", policy_id)
    authorize(actor.principal, Action.MANAGE_POLICIES, team_id=policy.team_id)
    return policy


def _repeat_count(value: int) -> int:
    if not 0 <= value <= escalation.MAX_REPEATS:
        raise InvalidInput("repeat_count", f"repeat_count is 0 to {escalation.MAX_REPEATS}")
    return value


def _details(loaded: LoadedPolicy) -> dict[str, Any]:
    snapshot = escalation.PolicySnapshot(
        loaded.policy.id, loaded.policy.name, loaded.levels, loaded.policy.repeat_count
    )
    data = snapshot.as_json()
    return {"name": data["name"], "repeat_count": data["repeat_count"], "levels": data["levels"]}


async def _audit(
    session: AsyncSession,
    actor: Actor,
    action: str,
    policy: EscalationPolicy,
    now: datetime,
    details: dict[str, Any],
) -> None:
    await audit.record(
        session,
        actor=actor,
        action=action,
        resource_type="escalation_policy",
        resource_id=policy.id,
        team_id=policy.team_id,
        now=now,
        details=details,
    )
