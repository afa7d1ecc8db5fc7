"""Shifts offered in a swap form, and reading the one chosen back.

A choice names a person and an interval of the rendered timeline. It travels through the
form as ``user_id|start|end`` (ISO instants); the swap action then checks against the
schedule itself that the shift really is that person's, so a forged value can at most be
refused.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from tocsin.actions.oncall.overrides import ShiftClaim
from tocsin.domain.schedules.timeline import Segment, SegmentKind
from tocsin.errors import InvalidInput


@dataclass(frozen=True)
class ShiftChoice:
    value: str
    segment: Segment


def offered(
    segments: list[Segment], *, mine: uuid.UUID
) -> tuple[list[ShiftChoice], list[ShiftChoice]]:
    """The viewer's upcoming rotation shifts and everyone else's, as choices. Stretches
    already covered by an override are left out: a swap may not overlap an override."""
    own: list[ShiftChoice] = []
    others: list[ShiftChoice] = []
    for segment in segments:
        if segment.user_id is None or segment.kind is not SegmentKind.LAYER:
            continue
        choice = ShiftChoice(
            f"{segment.user_id}|{segment.start.isoformat()}|{segment.end.isoformat()}", segment
        )
        (own if segment.user_id == mine else others).append(choice)
    return own, others


def chosen(value: str | None, field: str) -> ShiftClaim:
    try:
        user_id, start_text, end_text = (value or "").split("|")
        person = uuid.UUID(user_id)
        starts_at, ends_at = datetime.fromisoformat(start_text), datetime.fromisoformat(end_text)
    except ValueError:
        raise InvalidInput(field, "choose a shift from the list") from None
    if starts_at.tzinfo is None or ends_at.tzinfo is None:
        raise InvalidInput(field, "choose a shift from the list")
    return ShiftClaim(person, starts_at, ends_at)
