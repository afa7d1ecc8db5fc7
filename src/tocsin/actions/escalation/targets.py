"""Who an escalation target pages at a given moment, remembered for one engine tick.

A user (if still active), whoever a schedule has on call at that instant, or every active
admin and responder of a team. A target that yields nobody comes with a note for the
timeline. ``TargetResolver`` keeps the answers for one instant: in a tick, hundreds of
incidents often escalate to the same few people and schedules, and asking once is enough
(the answers are for that instant only, so a new resolver is made per tick).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from tocsin.actions.oncall import on_call as oncall
from tocsin.db.models.schedules import Schedule
from tocsin.db.models.teams import Team, TeamMembership
from tocsin.db.models.users import User
from tocsin.domain import escalation
from tocsin.domain.access import TeamRole

Resolved = tuple[list[tuple[uuid.UUID, str]], str | None]


@dataclass(frozen=True)
class Recipient:
    user_id: uuid.UUID
    reason: str


@dataclass
class TargetResolver:
    now: datetime
    _answers: dict[escalation.Target, Resolved] = field(default_factory=dict)

    async def recipients(
        self, session: AsyncSession, targets: tuple[escalation.Target, ...]
    ) -> tuple[list[Recipient], list[str]]:
        """Who ``targets`` page, each person once, and notes for the timeline."""
        found: dict[uuid.UUID, Recipient] = {}
        notes: list[str] = []
        for target in targets:
            if target not in self._answers:
                self._answers[target] = await _resolve(session, target, now=self.now)
            people, note = self._answers[target]
            if note:
                notes.append(note)
            for user_id, reason in people:
                found.setdefault(user_id, Recipient(user_id, reason))
        if not found:
            notes.append("nobody was paged at this level")
        return list(found.values()), notes


async def _resolve(session: AsyncSession, target: escalation.Target, *, now: datetime) -> Resolved:
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
