"""Personal notification rules and opt-ins, and who on call cannot be reached.

People edit their own rules; platform admins anyone's. A rule set is replaced whole per
urgency (the order of steps is their delays), checked by ``domain.notification_rules``.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence, Set
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from tocsin.actions import audit
from tocsin.actions.actors import Actor
from tocsin.actions.identity.contact_methods import authorize_owner, authorize_user
from tocsin.actions.oncall import on_call as oncall
from tocsin.db.models.contact_methods import ContactMethod, NotificationRule, NotificationSetting
from tocsin.db.models.schedules import Schedule
from tocsin.db.models.users import User
from tocsin.domain import notification_rules
from tocsin.domain.access import Action, authorize
from tocsin.domain.channels import ChannelKind
from tocsin.domain.incidents import Urgency
from tocsin.errors import InvalidInput


async def rules_of(session: AsyncSession, user_id: uuid.UUID) -> list[notification_rules.Rule]:
    rows = await session.scalars(
        sa.select(NotificationRule)
        .where(NotificationRule.user_id == user_id)
        .order_by(NotificationRule.urgency, NotificationRule.delay_minutes, NotificationRule.kind)
    )
    return [notification_rules.Rule(r.urgency, r.kind, r.delay_minutes) for r in rows]


async def get_rules(
    session: AsyncSession, *, actor: Actor, user_id: uuid.UUID
) -> list[notification_rules.Rule]:
    await authorize_user(session, actor, user_id)
    return await rules_of(session, user_id)


async def set_rules(
    session: AsyncSession,
    *,
    actor: Actor,
    user_id: uuid.UUID,
    urgency: Urgency,
    rules: Sequence[notification_rules.Rule],
    now: datetime,
) -> list[notification_rules.Rule]:
    """Replace the rules of one urgency."""
    await authorize_user(session, actor, user_id)
    problem = notification_rules.check(rules)
    if problem is not None:
        raise InvalidInput("steps", problem)
    if any(rule.urgency is not urgency for rule in rules):
        raise InvalidInput("steps", "every step must be of the urgency being set")
    await session.execute(
        sa.delete(NotificationRule).where(
            NotificationRule.user_id == user_id, NotificationRule.urgency == urgency
        )
    )
    for rule in rules:
        session.add(
            NotificationRule(
                id=uuid.uuid4(),
                user_id=user_id,
                urgency=rule.urgency,
                kind=rule.kind,
                delay_minutes=rule.delay_minutes,
                created_at=now,
            )
        )
    await session.flush()
    await audit.record(
        session,
        actor=actor,
        action="notification_rules.updated",
        resource_type="user",
        resource_id=user_id,
        now=now,
        details={
            "urgency": urgency.value,
            "steps": [f"{r.kind.value}+{r.delay_minutes}m" for r in rules],
        },
    )
    return await rules_of(session, user_id)


async def get_settings(
    session: AsyncSession, *, actor: Actor, user_id: uuid.UUID
) -> NotificationSetting:
    authorize_owner(actor, user_id)
    found = await session.get(NotificationSetting, user_id)
    return found or NotificationSetting(
        user_id=user_id, on_status_change=False, on_shift_start=False
    )


async def set_settings(
    session: AsyncSession,
    *,
    actor: Actor,
    user_id: uuid.UUID,
    on_status_change: bool,
    on_shift_start: bool,
    now: datetime,
) -> NotificationSetting:
    authorize_owner(actor, user_id)
    found = await session.get(NotificationSetting, user_id, with_for_update=True)
    if found is None:
        found = NotificationSetting(user_id=user_id)
        session.add(found)
    found.on_status_change = on_status_change
    found.on_shift_start = on_shift_start
    found.updated_at = now
    await session.flush()
    return found


@dataclass(frozen=True)
class Reach:
    """How a person can be reached per urgency: the kinds that work, and the problems."""

    user_id: uuid.UUID
    name: str
    reachable: dict[Urgency, list[ChannelKind]]
    problems: dict[Urgency, list[str]]

    @property
    def reaches_nobody(self) -> list[Urgency]:
        return [urgency for urgency in Urgency if not self.reachable[urgency]]


async def reach_of(session: AsyncSession, user: User, *, deliverable: Set[ChannelKind]) -> Reach:
    rules = await rules_of(session, user.id)
    methods = [
        notification_rules.Method(m.id, m.kind, m.verified_at is not None)
        for m in await session.scalars(
            sa.select(ContactMethod).where(
                ContactMethod.user_id == user.id, ContactMethod.disabled_at.is_(None)
            )
        )
    ]
    reachable: dict[Urgency, list[ChannelKind]] = {}
    problems: dict[Urgency, list[str]] = {}
    for urgency in Urgency:
        plan = notification_rules.plan(rules, methods, urgency=urgency, deliverable=deliverable)
        reachable[urgency] = sorted({p.kind for p in plan.deliveries})
        problems[urgency] = [f"{kind.value}: {why}" for kind, why in plan.unreachable]
        if not rules or not any(rule.urgency is urgency for rule in rules):
            problems[urgency].append(f"no rule for {urgency.value} urgency")
    return Reach(user.id, user.name, reachable, problems)


async def my_reach(
    session: AsyncSession, *, actor: Actor, user_id: uuid.UUID, deliverable: Set[ChannelKind]
) -> Reach:
    authorize_owner(actor, user_id)
    user = await session.get(User, user_id)
    if user is None:
        raise InvalidInput("user_id", f"user {user_id} does not exist")
    return await reach_of(session, user, deliverable=deliverable)


async def unreachable_on_call(
    session: AsyncSession, *, actor: Actor, deliverable: Set[ChannelKind], now: datetime
) -> list[tuple[Reach, list[str]]]:
    """Everyone on call now, on any schedule, whose rules reach nobody for some urgency,
    with the schedules they are on call for."""
    authorize(actor.principal, Action.READ_SCHEDULES)
    on_call: dict[uuid.UUID, list[str]] = {}
    for schedule in await session.scalars(sa.select(Schedule).order_by(Schedule.name)):
        for user_id in await oncall.on_call_users(session, schedule_id=schedule.id, at=now):
            on_call.setdefault(user_id, []).append(schedule.name)
    found: list[tuple[Reach, list[str]]] = []
    for user_id, schedules in on_call.items():
        user = await session.get(User, user_id)
        if user is None:
            continue
        reach = await reach_of(session, user, deliverable=deliverable)
        if reach.reaches_nobody:
            found.append((reach, schedules))
    return sorted(found, key=lambda item: item[0].name)
