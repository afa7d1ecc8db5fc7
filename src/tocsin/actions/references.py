"""Rows a request refers to by id: they must exist, and must keep existing until commit;
and, the other way round, what still refers to a row someone wants to delete.

A body that names a team, a policy, a service or a person gets a 422 naming the field
when the row does not exist (the URL's resource is fine; the body is wrong). The row is
read ``FOR KEY SHARE``: a concurrent delete of it waits for this transaction, then finds
the new reference and is refused, instead of this write failing on a foreign key at
commit. The lock is the weakest PostgreSQL has and does not block ordinary updates.
"""

from __future__ import annotations

import uuid
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from tocsin.db.base import Base
from tocsin.db.models.escalation_policies import (
    EscalationLevel,
    EscalationPolicy,
    EscalationTarget,
)
from tocsin.db.models.incidents import Incident
from tocsin.db.models.services import Service
from tocsin.errors import Conflict, InvalidInput

M = TypeVar("M", bound=Base)


async def existing(
    session: AsyncSession, model: type[M], row_id: uuid.UUID, *, field: str, resource: str
) -> M:
    """The ``model`` row ``row_id``, share-locked; ``InvalidInput`` on ``field`` if none."""
    lock: dict[str, Any] = {"key_share": True}
    row = await session.get(model, row_id, with_for_update=lock)
    if row is None:
        raise InvalidInput(field, f"{resource} {row_id} does not exist")
    return row


def names(values: list[str], limit: int = 5) -> str:
    """``'a', 'b' and 3 more``: a readable list for a refusal's detail."""
    shown = ", ".join(repr(value) for value in values[:limit])
    rest = len(values) - limit
    return f"{shown} and {rest} more" if rest > 0 else shown


async def refuse_if_team_in_use(session: AsyncSession, team_id: uuid.UUID, name: str) -> None:
    """``Conflict`` naming the services, policies and incidents that keep a team alive.

    The caller holds the team row locked, so nothing can start using it meanwhile.
    """
    used_by: dict[str, Any] = {}
    owned: list[tuple[str, sa.Select[str]]] = [
        ("services", sa.select(Service.name).where(Service.team_id == team_id)),
        (
            "escalation_policies",
            sa.select(EscalationPolicy.name).where(EscalationPolicy.team_id == team_id),
        ),
        ("paged_by_policies", _policies_targeting(EscalationTarget.team_id == team_id)),
    ]
    for key, query in owned:
        if found := list(await session.scalars(query.order_by(sa.text("1")))):
            used_by[key] = found
    incidents = await session.scalar(
        sa.select(sa.func.count()).select_from(Incident).where(Incident.team_id == team_id)
    )
    if incidents:
        used_by["incidents"] = int(incidents)
    if not used_by:
        return
    parts = []
    if "services" in used_by:
        parts.append(f"it owns services {names(used_by['services'])}")
    if "escalation_policies" in used_by:
        parts.append(f"it owns escalation policies {names(used_by['escalation_policies'])}")
    if "paged_by_policies" in used_by:
        parts.append(f"escalation policies {names(used_by['paged_by_policies'])} page it")
    if "incidents" in used_by:
        parts.append(f"it has {used_by['incidents']} incident(s), which are kept as history")
    raise Conflict(f"team {name!r} cannot be deleted: " + "; ".join(parts), used_by=used_by)


async def refuse_if_schedule_in_use(
    session: AsyncSession, schedule_id: uuid.UUID, name: str
) -> None:
    """``Conflict`` naming the escalation policies that page whoever the schedule has on
    call. The caller holds the schedule row locked."""
    query = _policies_targeting(EscalationTarget.schedule_id == schedule_id)
    policies = list(await session.scalars(query.order_by(sa.text("1"))))
    if policies:
        raise Conflict(
            f"schedule {name!r} is paged by escalation policies {names(policies)}; "
            "take it out of their levels first",
            used_by={"escalation_policies": policies},
        )


def _policies_targeting(condition: sa.ColumnElement[bool]) -> sa.Select[str]:
    return (
        sa.select(EscalationPolicy.name)
        .join(EscalationLevel, EscalationLevel.policy_id == EscalationPolicy.id)
        .join(EscalationTarget, EscalationTarget.level_id == EscalationLevel.id)
        .where(condition)
        .distinct()
    )
