"""Layering: the one timeline of who is on call, and the instant query that agrees with it.

Layers are listed highest priority first. At any instant the highest layer that has someone
on call wins; where a layer is restricted, empty, not yet started or already ended, the
layers below show through. Overrides then apply on top (``overrides``). Where nobody is on
call the timeline has an explicit gap segment: a gap is reported, never hidden.

``render`` returns segments that tile ``[since, until)`` exactly: in order, each ending
where the next starts, none empty. A segment is a piece of one shift of one layer, a piece
of one override, or a gap; a handoff between two shifts of the same person stays a
boundary. ``on_call_at`` answers for one instant without rendering, in time independent of
how long the schedule has run, and always agrees with ``render``.
"""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from functools import cached_property
from typing import NamedTuple
from zoneinfo import ZoneInfo

from tocsin.domain.schedules import restrictions
from tocsin.domain.schedules.overrides import Override, covering, in_order
from tocsin.domain.schedules.restrictions import Window
from tocsin.domain.schedules.rotations import Rotation


class SegmentKind(StrEnum):
    LAYER = "layer"
    OVERRIDE = "override"
    GAP = "gap"


@dataclass(frozen=True)
class Segment:
    start: datetime
    end: datetime
    user_id: uuid.UUID | None
    kind: SegmentKind
    layer_id: uuid.UUID | None = None
    override_id: uuid.UUID | None = None

    def source(self) -> tuple[SegmentKind, uuid.UUID | None, uuid.UUID | None]:
        return (self.kind, self.layer_id, self.override_id)


@dataclass(frozen=True)
class OnCall:
    """Who is on call at one instant, and why (``user_id`` is ``None`` in a gap)."""

    user_id: uuid.UUID | None
    kind: SegmentKind
    layer_id: uuid.UUID | None = None
    override_id: uuid.UUID | None = None


GAP = OnCall(None, SegmentKind.GAP)


@dataclass(frozen=True)
class Layer:
    id: uuid.UUID
    rotation: Rotation
    windows: tuple[Window, ...] = ()

    def on_call_at(self, instant: datetime) -> uuid.UUID | None:
        if not restrictions.allows(self.windows, self.rotation.zone, instant):
            return None
        return self.rotation.on_call_at(instant)

    def pieces(self, since: datetime, until: datetime) -> Iterator[_Piece]:
        """Shifts clipped to the restriction windows, in order."""
        if not self.windows:
            for shift in self.rotation.shifts(since, until):
                yield _Piece(shift.start, shift.end, shift.user_id, self.id, shift.number)
            return
        windows = restrictions.intervals(self.windows, self.rotation.zone, since, until)
        position = 0
        for shift in self.rotation.shifts(since, until):
            while position < len(windows) and windows[position][1] <= shift.start:
                position += 1
            scan = position
            while scan < len(windows) and windows[scan][0] < shift.end:
                start = max(shift.start, windows[scan][0])
                end = min(shift.end, windows[scan][1])
                if start < end:
                    yield _Piece(start, end, shift.user_id, self.id, shift.number)
                scan += 1


@dataclass(frozen=True)
class Schedule:
    zone: ZoneInfo
    layers: tuple[Layer, ...] = ()
    overrides: tuple[Override, ...] = field(default=())

    @cached_property
    def ordered_overrides(self) -> tuple[Override, ...]:
        return in_order(self.overrides)

    @cached_property
    def override_starts(self) -> list[datetime]:
        return [override.start for override in self.ordered_overrides]


def on_call_at(schedule: Schedule, instant: datetime) -> OnCall:
    override = covering(schedule.ordered_overrides, schedule.override_starts, instant)
    if override is not None and override.replaces_user_id is None:
        return OnCall(override.user_id, SegmentKind.OVERRIDE, override_id=override.id)
    layered = _layered_at(schedule.layers, instant)
    if (
        override is not None
        and layered.user_id is not None
        and override.applies_to(layered.user_id)
    ):
        return OnCall(override.user_id, SegmentKind.OVERRIDE, override_id=override.id)
    return layered


def _layered_at(layers: Sequence[Layer], instant: datetime) -> OnCall:
    for layer in layers:
        user_id = layer.on_call_at(instant)
        if user_id is not None:
            return OnCall(user_id, SegmentKind.LAYER, layer_id=layer.id)
    return GAP


def render(schedule: Schedule, since: datetime, until: datetime) -> list[Segment]:
    """The final timeline of ``[since, until)``: layers flattened, overrides applied."""
    if since >= until:
        return []
    layered = _flatten(
        [list(layer.pieces(since, until)) for layer in schedule.layers], since, until
    )
    relevant = [o for o in schedule.ordered_overrides if o.overlaps(since, until)]
    return _apply_overrides(layered, relevant)


@dataclass(frozen=True)
class Handoff:
    """The on-call person changes at ``at`` (either side may be ``None``: a gap)."""

    at: datetime
    from_user_id: uuid.UUID | None
    to_user_id: uuid.UUID | None


def handoffs(segments: Sequence[Segment]) -> list[Handoff]:
    """Every change of person between consecutive segments (not same-person handoffs)."""
    return [
        Handoff(after.start, before.user_id, after.user_id)
        for before, after in itertools.pairwise(segments)
        if before.user_id != after.user_id
    ]


class _Piece(NamedTuple):
    start: datetime
    end: datetime
    user_id: uuid.UUID
    layer_id: uuid.UUID
    shift_index: int


def _flatten(per_layer: list[list[_Piece]], since: datetime, until: datetime) -> list[Segment]:
    # Cut the range at every piece edge of every layer; in each cut the highest layer with
    # a piece wins. Consecutive cuts from the same shift piece are joined back together.
    edges = sorted(
        {since, until}
        | {piece.start for pieces in per_layer for piece in pieces}
        | {piece.end for pieces in per_layer for piece in pieces}
    )
    cursors = [0] * len(per_layer)
    segments: list[Segment] = []
    winners: list[_Piece | None] = []
    for start, end in itertools.pairwise(edges):
        winner: _Piece | None = None
        for number, pieces in enumerate(per_layer):
            while cursors[number] < len(pieces) and pieces[cursors[number]].end <= start:
                cursors[number] += 1
            if cursors[number] < len(pieces) and pieces[cursors[number]].start <= start:
                winner = pieces[cursors[number]]
                break
        if segments and winners[-1] == winner:
            segments[-1] = _stretched(segments[-1], end)
            continue
        winners.append(winner)
        if winner is None:
            segments.append(Segment(start, end, None, SegmentKind.GAP))
        else:
            segments.append(
                Segment(start, end, winner.user_id, SegmentKind.LAYER, layer_id=winner.layer_id)
            )
    return segments


def _apply_overrides(layered: list[Segment], ordered: list[Override]) -> list[Segment]:
    if not ordered:
        return layered
    result: list[Segment] = []
    position = 0
    for segment in layered:
        cursor = segment.start
        while position < len(ordered) and ordered[position].end <= segment.start:
            position += 1
        scan = position
        while scan < len(ordered) and ordered[scan].start < segment.end:
            override = ordered[scan]
            scan += 1
            if not override.applies_to(segment.user_id):
                continue
            start, end = max(override.start, segment.start), min(override.end, segment.end)
            if cursor < start:
                _append(result, _piece_of(segment, cursor, start))
            _append(
                result,
                Segment(
                    start, end, override.user_id, SegmentKind.OVERRIDE, override_id=override.id
                ),
            )
            cursor = end
        if cursor < segment.end:
            _append(result, _piece_of(segment, cursor, segment.end))
    return result


def _append(result: list[Segment], segment: Segment) -> None:
    # An override spanning a handoff or a gap edge is one segment, not one per piece under it.
    previous = result[-1] if result else None
    if (
        previous is not None
        and previous.kind is not SegmentKind.LAYER
        and previous.source() == segment.source()
        and previous.user_id == segment.user_id
        and previous.end == segment.start
    ):
        result[-1] = _stretched(previous, segment.end)
    else:
        result.append(segment)


def _piece_of(segment: Segment, start: datetime, end: datetime) -> Segment:
    return Segment(start, end, segment.user_id, segment.kind, segment.layer_id, segment.override_id)


def _stretched(segment: Segment, end: datetime) -> Segment:
    return Segment(
        segment.start, end, segment.user_id, segment.kind, segment.layer_id, segment.override_id
    )
