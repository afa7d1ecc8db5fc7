"""The escalation policy form: ordered levels of ordered targets, without JavaScript.

A policy is a list of levels, each a wait and a list of targets, and both orders matter.
A multiple-choice list cannot say in which order things were chosen, so the form has one
row per level (with an order number, so levels can be moved) and one choice per target
slot, read in slot order. Each level keeps one empty slot, and the form one empty level;
"More rows" sends the form back with another empty slot everywhere, keeping what was typed.
Empty levels at the end are spare rows and left out; an empty level before a filled one
is refused by number ("level 1 has no target").

Field names: ``level-{i}-order``, ``level-{i}-delay``, ``level-{i}-remove`` and
``level-{i}-target-{j}``, whose value is ``user:<id>``, ``schedule:<id>`` or ``team:<id>``.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from tocsin.domain.escalation import LevelSnapshot, Target, TargetKind
from tocsin.errors import InvalidInput

DEFAULT_DELAY = "30"
_CHOOSE = "choose a person, a schedule or a team to page"
_DELAY = re.compile(r"^level-(\d+)-delay$")
_TARGET = re.compile(r"^level-(\d+)-target-(\d+)$")


@dataclass
class DraftLevel:
    """A level as typed: its wait as text and its target choices in slot order."""

    delay: str = DEFAULT_DELAY
    targets: list[str] = field(default_factory=list)


def from_levels(levels: Sequence[LevelSnapshot]) -> list[DraftLevel]:
    return [
        DraftLevel(str(level.delay_minutes), [f"{t.kind.value}:{t.id}" for t in level.targets])
        for level in levels
    ]


def from_form(form: Mapping[str, str]) -> list[DraftLevel]:
    """The levels the form holds, in their chosen order; removed and empty ones dropped."""
    rows: dict[int, DraftLevel] = {}
    slots: dict[int, dict[int, str]] = {}
    for name, value in form.items():
        if delay := _DELAY.match(name):
            rows.setdefault(int(delay.group(1)), DraftLevel()).delay = value.strip()
        elif target := _TARGET.match(name):
            index, slot = int(target.group(1)), int(target.group(2))
            slots.setdefault(index, {})[slot] = value.strip()
    for index, chosen in slots.items():
        row = rows.setdefault(index, DraftLevel())
        row.targets = [chosen[slot] for slot in sorted(chosen) if chosen[slot]]
    kept = [
        (_order(form.get(f"level-{index}-order"), index + 1), index, row)
        for index, row in rows.items()
        if form.get(f"level-{index}-remove") != "on"
    ]
    ordered = [row for _, _, row in sorted(kept, key=lambda item: (item[0], item[1]))]
    # Empty levels at the end are the form's spare rows; one before a filled level was
    # meant to page someone, and ``to_levels`` says which one lacks a target.
    while ordered and not ordered[-1].targets:
        ordered.pop()
    return ordered


def with_room(levels: Sequence[DraftLevel], extra: int = 1) -> list[DraftLevel]:
    """The levels with ``extra`` empty target slots each, plus one empty level."""
    roomy = [DraftLevel(level.delay, [*level.targets, *([""] * extra)]) for level in levels]
    return [*roomy, DraftLevel(DEFAULT_DELAY, [""] * extra)]


def to_levels(levels: Sequence[DraftLevel]) -> list[LevelSnapshot]:
    """What the action takes; a level or target that cannot be read is refused by name
    (the same paths the API uses: ``levels[0].delay_minutes``)."""
    if not levels:
        raise InvalidInput("levels[0].targets", f"level 1 has no target: {_CHOOSE}")
    built: list[LevelSnapshot] = []
    for position, level in enumerate(levels):
        if not level.targets:
            raise InvalidInput(
                f"levels[{position}].targets", f"level {position + 1} has no target: {_CHOOSE}"
            )
        try:
            delay = int(level.delay)
        except ValueError:
            raise InvalidInput(
                f"levels[{position}].delay_minutes",
                f"level {position + 1} needs its wait in whole minutes",
            ) from None
        targets = tuple(
            _target(value, f"levels[{position}].targets[{slot}]")
            for slot, value in enumerate(level.targets)
        )
        built.append(LevelSnapshot(delay, targets))
    return built


def _target(value: str, path: str) -> Target:
    kind, _, raw = value.partition(":")
    try:
        return Target(TargetKind(kind), uuid.UUID(raw))
    except ValueError:
        raise InvalidInput(path, "choose a person, a schedule or a team") from None


def _order(value: str | None, default: int) -> float:
    try:
        return float(value) if value and value.strip() else float(default)
    except ValueError:
        return float(default)
