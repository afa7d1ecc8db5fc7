"""Services: what alerts are about, each owned by one team.

Anyone signed in reads services; the admins of the owning team manage a service (moving
it to another team takes admin rights in both). A service's name is unique in the
installation regardless of case: pages and integrations show it without its team. A
service may escalate by any team's policy (escalating to another team is a real need), but
the policy must exist.

A service that something still refers to cannot be deleted, and the refusal names what:
the integrations that send to it (directly, as their fallback, or through a routing rule)
and its incidents, which are history and are never deleted with it.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from tocsin.actions import audit
from tocsin.actions.actors import Actor
from tocsin.actions.references import existing, names
from tocsin.db import keyset
from tocsin.db.constraints import flush_restricted, flush_unique
from tocsin.db.models.escalation_policies import EscalationPolicy
from tocsin.db.models.incidents import Incident
from tocsin.db.models.integrations import Integration, RoutingRule
from tocsin.db.models.services import Service
from tocsin.db.models.teams import Team
from tocsin.domain.access import Action, authorize
from tocsin.domain.incidents import UrgencyRule
from tocsin.errors import Conflict, InvalidInput, NotFound

_NAME_UNIQUE = "uq_service_name_lower"
ACK_TIMEOUT_RANGE = (1, 7 * 24 * 60)
AUTO_RESOLVE_RANGE = (1, 365 * 24)


@dataclass(frozen=True)
class ServiceChanges:
    """Fields to change; ``None`` leaves a field as it is, and ``clear_*`` removes an
    optional one (no policy: incidents open but page nobody; no timeout: never reopen)."""

    name: str | None = None
    description: str | None = None
    team_id: uuid.UUID | None = None
    escalation_policy_id: uuid.UUID | None = None
    clear_escalation_policy: bool = False
    urgency_rule: UrgencyRule | None = None
    ack_timeout_minutes: int | None = None
    clear_ack_timeout: bool = False
    auto_resolve_hours: int | None = None
    clear_auto_resolve: bool = False


async def create_service(
    session: AsyncSession,
    *,
    actor: Actor,
    team_id: uuid.UUID,
    name: str,
    now: datetime,
    description: str = "",
    escalation_policy_id: uuid.UUID | None = None,
    urgency_rule: UrgencyRule = UrgencyRule.SEVERITY,
    ack_timeout_minutes: int | None = None,
    auto_resolve_hours: int | None = None,
    team_policy_if_one: bool = False,
) -> Service:
    """With ``team_policy_if_one`` and no policy named, the service escalates by its
    team's policy when the team has exactly one (the choice anyone would make; with
    none or several there is nothing obvious to pick, and it pages nobody)."""
    await existing(session, Team, team_id, field="team_id", resource="team")
    authorize(actor.principal, Action.MANAGE_SERVICES, team_id=team_id)
    if escalation_policy_id is None and team_policy_if_one:
        escalation_policy_id = await _only_policy_of(session, team_id)
    if escalation_policy_id is not None:
        await _policy(session, escalation_policy_id)
    service = Service(
        id=uuid.uuid4(),
        team_id=team_id,
        name=clean_text(name, "name", 100),
        description=description.strip(),
        escalation_policy_id=escalation_policy_id,
        urgency_rule=UrgencyRule(urgency_rule),
        ack_timeout_minutes=_in_range(
            ack_timeout_minutes, "ack_timeout_minutes", ACK_TIMEOUT_RANGE
        ),
        auto_resolve_hours=_in_range(auto_resolve_hours, "auto_resolve_hours", AUTO_RESOLVE_RANGE),
        created_at=now,
        updated_at=now,
    )
    session.add(service)
    await flush_unique(session, resource="service", fields={_NAME_UNIQUE: ("name", service.name)})
    await _audit(session, actor, "service.created", service, now, _snapshot(service))
    return service


async def update_service(
    session: AsyncSession,
    *,
    actor: Actor,
    service_id: uuid.UUID,
    changes: ServiceChanges,
    now: datetime,
) -> Service:
    service = await locked_for_change(session, actor=actor, service_id=service_id)
    wanted: dict[str, Any] = {}
    if changes.name is not None:
        wanted["name"] = clean_text(changes.name, "name", 100)
    if changes.description is not None:
        wanted["description"] = changes.description.strip()
    if changes.team_id is not None and changes.team_id != service.team_id:
        await existing(session, Team, changes.team_id, field="team_id", resource="team")
        authorize(actor.principal, Action.MANAGE_SERVICES, team_id=changes.team_id)
        wanted["team_id"] = changes.team_id
    if changes.escalation_policy_id is not None:
        await _policy(session, changes.escalation_policy_id)
        wanted["escalation_policy_id"] = changes.escalation_policy_id
    elif changes.clear_escalation_policy:
        wanted["escalation_policy_id"] = None
    if changes.urgency_rule is not None:
        wanted["urgency_rule"] = UrgencyRule(changes.urgency_rule)
    if changes.ack_timeout_minutes is not None or changes.clear_ack_timeout:
        wanted["ack_timeout_minutes"] = _in_range(
            changes.ack_timeout_minutes, "ack_timeout_minutes", ACK_TIMEOUT_RANGE
        )
    if changes.auto_resolve_hours is not None or changes.clear_auto_resolve:
        wanted["auto_resolve_hours"] = _in_range(
            changes.auto_resolve_hours, "auto_resolve_hours", AUTO_RESOLVE_RANGE
        )
    changed = {key: value for key, value in wanted.items() if getattr(service, key) != value}
    if not changed:
        return service
    previous_team = service.team_id
    for key, value in changed.items():
        setattr(service, key, value)
    service.updated_at = now
    await flush_unique(session, resource="service", fields={_NAME_UNIQUE: ("name", service.name)})
    details: dict[str, Any] = {"changed": sorted(changed)}
    if "team_id" in changed:
        details["from_team_id"] = str(previous_team)
    await _audit(session, actor, "service.updated", service, now, details)
    return service


async def delete_service(
    session: AsyncSession, *, actor: Actor, service_id: uuid.UUID, now: datetime
) -> None:
    # The row lock makes the usage check below exact: a concurrent insert of a reference
    # (an integration, an incident) takes a key-share lock on this row, so it either
    # committed before the lock was granted (and is counted) or waits and then fails.
    service = await locked_for_change(session, actor=actor, service_id=service_id)
    used_by = await _used_by(session, service.id)
    if used_by:
        raise Conflict(_in_use_detail(service.name, used_by), used_by=used_by)
    await session.delete(service)
    await flush_restricted(session, detail=f"service {service.name!r} is still in use")
    await _audit(session, actor, "service.deleted", service, now, {"name": service.name})


async def get_service(session: AsyncSession, *, actor: Actor, service_id: uuid.UUID) -> Service:
    authorize(actor.principal, Action.READ_SERVICES)
    service = await session.get(Service, service_id)
    if service is None:
        raise NotFound("service", service_id)
    return service


async def list_services(
    session: AsyncSession,
    *,
    actor: Actor,
    cursor: str | None,
    limit: int,
    team_id: uuid.UUID | None = None,
    search: str | None = None,
) -> keyset.Page[Service]:
    authorize(actor.principal, Action.READ_SERVICES)
    query = sa.select(Service)
    if team_id is not None:
        query = query.where(Service.team_id == team_id)
    if search:
        pattern = f"%{escape_like(search.lower())}%"
        query = query.where(sa.func.lower(Service.name).like(pattern, escape="\\"))
    return await keyset.fetch_page(session, query, key=Service.id, cursor=cursor, limit=limit)


async def locked_for_change(
    session: AsyncSession, *, actor: Actor, service_id: uuid.UUID
) -> Service:
    """The service, locked, once ``actor`` may manage it (its maintenance windows too)."""
    service = await session.get(Service, service_id, with_for_update=True)
    if service is None:
        raise NotFound("service", service_id)
    authorize(actor.principal, Action.MANAGE_SERVICES, team_id=service.team_id)
    return service


async def _only_policy_of(session: AsyncSession, team_id: uuid.UUID) -> uuid.UUID | None:
    found = (
        await session.scalars(
            sa.select(EscalationPolicy.id).where(EscalationPolicy.team_id == team_id).limit(2)
        )
    ).all()
    return found[0] if len(found) == 1 else None


async def _policy(session: AsyncSession, policy_id: uuid.UUID) -> EscalationPolicy:
    return await existing(
        session,
        EscalationPolicy,
        policy_id,
        field="escalation_policy_id",
        resource="escalation policy",
    )


async def _used_by(session: AsyncSession, service_id: uuid.UUID) -> dict[str, Any]:
    direct = await session.scalars(
        sa.select(Integration.name)
        .where(
            sa.or_(
                Integration.service_id == service_id,
                Integration.fallback_service_id == service_id,
            )
        )
        .order_by(Integration.name)
    )
    routed = await session.scalars(
        sa.select(Integration.name)
        .join(RoutingRule, RoutingRule.integration_id == Integration.id)
        .where(RoutingRule.service_id == service_id)
        .distinct()
        .order_by(Integration.name)
    )
    incidents = await session.scalar(
        sa.select(sa.func.count()).select_from(Incident).where(Incident.service_id == service_id)
    )
    used_by: dict[str, Any] = {}
    if integrations := list(direct):
        used_by["integrations"] = integrations
    if routing := list(routed):
        used_by["routing_rules_of"] = routing
    if incidents:
        used_by["incidents"] = int(incidents)
    return used_by


def _in_use_detail(name: str, used_by: dict[str, Any]) -> str:
    parts = []
    if "integrations" in used_by:
        parts.append(f"integrations {names(used_by['integrations'])} send to it")
    if "routing_rules_of" in used_by:
        parts.append(f"routing rules of {names(used_by['routing_rules_of'])} route to it")
    if "incidents" in used_by:
        parts.append(f"it has {used_by['incidents']} incident(s), which are kept as history")
    return f"service {name!r} cannot be deleted: " + "; ".join(parts)


def _snapshot(service: Service) -> dict[str, Any]:
    return {
        "name": service.name,
        "escalation_policy_id": (
            str(service.escalation_policy_id) if service.escalation_policy_id else None
        ),
        "urgency_rule": service.urgency_rule.value,
        "ack_timeout_minutes": service.ack_timeout_minutes,
        "auto_resolve_hours": service.auto_resolve_hours,
    }


async def _audit(
    session: AsyncSession,
    actor: Actor,
    action: str,
    service: Service,
    now: datetime,
    details: dict[str, Any],
) -> None:
    await audit.record(
        session,
        actor=actor,
        action=action,
        resource_type="service",
        resource_id=service.id,
        team_id=service.team_id,
        now=now,
        details=details,
    )


def _in_range(value: int | None, field: str, bounds: tuple[int, int]) -> int | None:
    low, high = bounds
    if value is not None and not low <= value <= high:
        raise InvalidInput(field, f"{field} must be between {low} and {high}, or null")
    return value


def clean_text(value: str, field: str, limit: int) -> str:
    """Whitespace collapsed; ``InvalidInput`` on ``field`` when blank or too long."""
    cleaned = " ".join(value.split())
    if not cleaned:
        raise InvalidInput(field, f"the {field} cannot be blank")
    if len(cleaned) > limit:
        raise InvalidInput(field, f"the {field} has at most {limit} characters")
    return cleaned


def escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
