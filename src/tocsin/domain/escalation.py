"""Escalation: which level to page next, and when.

A policy is an ordered list of levels; each level names targets and how long to wait at
that level for an acknowledgement before moving on. After the last level the policy
starts again from level 1, ``repeat_count`` more times, then it is exhausted.

An incident keeps a *snapshot* of its policy (``PolicySnapshot``), so editing a policy
never changes an escalation already in flight. Its progress is ``(level, loop)``: level 0
means nothing has been paged yet; loop 0 is the first pass through the levels.

Timing: level N is paged, then level N+1 is due ``delay(N)`` minutes after level N was
*actually* paged, so a person always gets their level's full wait, even when the engine
was late (after a restart, say). A level that pages nobody (an empty schedule) does not
wait: the next level is due at once.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

MAX_LEVELS = 20
MAX_REPEATS = 9
MAX_DELAY_MINUTES = 24 * 60


class TargetKind(StrEnum):
    USER = "user"
    SCHEDULE = "schedule"
    TEAM = "team"


@dataclass(frozen=True)
class Target:
    kind: TargetKind
    id: uuid.UUID

    def as_json(self) -> dict[str, str]:
        return {"kind": self.kind.value, "id": str(self.id)}


@dataclass(frozen=True)
class LevelSnapshot:
    delay_minutes: int
    targets: tuple[Target, ...]


@dataclass(frozen=True)
class PolicySnapshot:
    policy_id: uuid.UUID | None
    name: str
    levels: tuple[LevelSnapshot, ...]
    repeat_count: int

    def as_json(self) -> dict[str, Any]:
        return {
            "policy_id": str(self.policy_id) if self.policy_id else None,
            "name": self.name,
            "repeat_count": self.repeat_count,
            "levels": [
                {
                    "delay_minutes": level.delay_minutes,
                    "targets": [target.as_json() for target in level.targets],
                }
                for level in self.levels
            ],
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> PolicySnapshot:
        return cls(
            policy_id=uuid.UUID(data["policy_id"]) if data.get("policy_id") else None,
            name=data["name"],
            repeat_count=int(data["repeat_count"]),
            levels=tuple(
                LevelSnapshot(
                    delay_minutes=int(level["delay_minutes"]),
                    targets=tuple(
                        Target(TargetKind(target["kind"]), uuid.UUID(target["id"]))
                        for target in level["targets"]
                    ),
                )
                for level in data["levels"]
            ),
        )


@dataclass(frozen=True)
class Progress:
    level: int
    loop: int


@dataclass(frozen=True)
class PageLevel:
    """Page the targets of ``level`` (1-based) in ``loop`` now."""

    level: int
    loop: int
    targets: tuple[Target, ...]
    delay: timedelta

    def next_due(self, now: datetime, *, paged_anyone: bool) -> datetime:
        return now + self.delay if paged_anyone else now


@dataclass(frozen=True)
class Exhausted:
    """Every level of every loop has been paged; nothing more is due."""


Step = PageLevel | Exhausted


def next_step(policy: PolicySnapshot, progress: Progress) -> Step:
    """What follows ``progress``: the next level, level 1 of the next loop, or the end."""
    if not policy.levels:
        return Exhausted()
    if progress.level < len(policy.levels):
        return _page(policy, progress.level + 1, progress.loop)
    if progress.loop < policy.repeat_count:
        return _page(policy, 1, progress.loop + 1)
    return Exhausted()


def jump_to(policy: PolicySnapshot, progress: Progress, level: int | None) -> Step:
    """A manual "escalate now": to ``level`` if given, else the next one. Escalating past
    the last level of the last loop exhausts the policy."""
    if level is None:
        return next_step(policy, progress)
    if not 1 <= level <= len(policy.levels):
        raise ValueError(f"level must be between 1 and {len(policy.levels)}")
    return _page(policy, level, progress.loop)


def _page(policy: PolicySnapshot, level: int, loop: int) -> PageLevel:
    snapshot = policy.levels[level - 1]
    return PageLevel(
        level=level,
        loop=loop,
        targets=snapshot.targets,
        delay=timedelta(minutes=snapshot.delay_minutes),
    )
