"""Changing incidents: open, acknowledge, resolve, snooze, reopen, reassign, escalate, note.

The API, the pages, the engine, the intake pipeline and (later) email links, chat buttons
and SMS replies all call these. Every transition is one conditional UPDATE whose WHERE
clause states the status it starts from: of two people acknowledging at once, exactly one
UPDATE matches a row; the other finds the incident already acknowledged and gets
``StaleTransition`` naming who won and when. Acknowledging or resolving bumps
``escalation_token`` in the same statement, which voids any escalation step in flight.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from tocsin.actions import audit
from tocsin.actions.actors import Actor
from tocsin.actions.escalation import policies, steps
from tocsin.actions.incidents import cancellations
from tocsin.actions.wake import wake_engine
from tocsin.db.models.incidents import Alert, Incident, next_version
from tocsin.db.models.services import Service
from tocsin.db.models.users import User
from tocsin.domain import escalation, policy_snapshots
from tocsin.domain.access import Action, PrincipalKind, authorize
from tocsin.domain.incidents import (
    CAN_RESOLVE,
    CAN_SNOOZE,
    AlertStatus,
    IncidentStatus,
)
from tocsin.errors import InvalidInput, NotFound, StaleTransition

MAX_SNOOZE = timedelta(days=7)
REASSIGNED_DELAY_MINUTES = 30


async def acknowledge(
    session: AsyncSession, *, incident_id: uuid.UUID, actor: Actor, via: str, now: datetime
) -> Incident:
    incident = await _load(session, incident_id)
    _authorize(actor, incident)
    service = await session.get(Service, incident.service_id)
    timeout = service.ack_timeout_minutes if service else None
    changed = await _transition(
        session,
        incident_id,
        allowed=(IncidentStatus.TRIGGERED,),
        values={
            "status": IncidentStatus.ACKNOWLEDGED,
            "acknowledged_at": now,
            "acknowledged_by": actor.principal.label,
            "acknowledged_by_user_id": actor.user_id,
            "reopen_at": now + timedelta(minutes=timeout) if timeout else None,
            "snoozed_until": None,
        },
        now=now,
    )
    await _record(session, changed, actor, "incident.acknowledged", now, {"via": via})
    await cancellations.announce(
        session, incident=changed, event="acknowledged", actor=actor, now=now
    )
    return changed


async def resolve(
    session: AsyncSession,
    *,
    incident_id: uuid.UUID,
    actor: Actor,
    via: str,
    now: datetime,
    note: str | None = None,
) -> Incident:
    incident = await _load(session, incident_id)
    _authorize(actor, incident)
    # Lock the firing alerts before the incident, the order intake takes them in (a repeat
    # counts on its alert, then touches the incident): the other order deadlocked a
    # resolve against repeats arriving at the same moment, failing both.
    await session.execute(
        sa.select(Alert.id)
        .where(Alert.incident_id == incident_id, Alert.status == AlertStatus.FIRING)
        .order_by(Alert.id)
        .with_for_update()
    )
    changed = await _transition(
        session,
        incident_id,
        allowed=tuple(CAN_RESOLVE),
        values={
            "status": IncidentStatus.RESOLVED,
            "resolved_at": now,
            "resolved_by": actor.principal.label,
            "resolved_by_user_id": actor.user_id,
            "reopen_at": None,
            "snoozed_until": None,
        },
        now=now,
    )
    # Resolving an incident resolves its alerts: a later trigger opens a new incident.
    await session.execute(
        sa.update(Alert)
        .where(Alert.incident_id == incident_id, Alert.status == AlertStatus.FIRING)
        .values(status=AlertStatus.RESOLVED, resolved_at=now)
    )
    details: dict[str, object] = {
        "via": via,
        "duration_seconds": int((now - changed.created_at).total_seconds()),
    }
    if note:
        details["note"] = note
    await _record(session, changed, actor, "incident.resolved", now, details)
    await cancellations.announce(session, incident=changed, event="resolved", actor=actor, now=now)
    return changed


async def snooze(
    session: AsyncSession,
    *,
    incident_id: uuid.UUID,
    actor: Actor,
    duration: timedelta,
    via: str,
    now: datetime,
) -> Incident:
    """Acknowledge until ``now + duration``, then trigger again and escalate from level 1."""
    if not timedelta(minutes=1) <= duration <= MAX_SNOOZE:
        raise InvalidInput("minutes", "a snooze lasts from 1 minute to 7 days")
    incident = await _load(session, incident_id)
    _authorize(actor, incident)
    values: dict[str, object] = {
        "status": IncidentStatus.ACKNOWLEDGED,
        "snoozed_until": now + duration,
        "reopen_at": now + duration,
    }
    if incident.status is IncidentStatus.TRIGGERED:
        values |= {
            "acknowledged_at": now,
            "acknowledged_by": actor.principal.label,
            "acknowledged_by_user_id": actor.user_id,
        }
    changed = await _transition(
        session, incident_id, allowed=tuple(CAN_SNOOZE), values=values, now=now
    )
    await _record(
        session,
        changed,
        actor,
        "incident.snoozed",
        now,
        {"via": via, "until": (now + duration).isoformat()},
    )
    return changed


async def reopen_due(session: AsyncSession, *, incident: Incident, now: datetime) -> bool:
    """The engine's half of ack timeouts and snoozes: an acknowledged incident whose
    ``reopen_at`` has come is triggered again, due at level 1 at once.

    It is only made due: the escalation module pages it, or holds it while its service is
    in maintenance (paging from here skipped that check). Its lane is woken when this
    commits; without that it slept on until its next timer or poll, seconds late."""
    reason = "the snooze ended" if incident.snoozed_until else "the acknowledgement timed out"
    reopened = (
        await session.execute(
            sa.update(Incident)
            .where(
                Incident.id == incident.id,
                Incident.status == IncidentStatus.ACKNOWLEDGED,
                Incident.reopen_at <= now,
            )
            .values(
                **_RETRIGGER,
                escalation_level=0,
                escalation_loop=0,
                escalation_token=Incident.escalation_token + 1,
                next_escalation_at=now,
                escalation_exhausted_at=None,
                updated_at=next_version(now),
            )
            .returning(Incident.id)
            .execution_options(synchronize_session=False)
        )
    ).first()
    if reopened is None:
        return False
    current = await _reload(session, incident.id)
    await _record(session, current, steps.ENGINE, "incident.reopened", now, {"reason": reason})
    await wake_engine(session, "escalations")
    return True


async def reassign(
    session: AsyncSession,
    *,
    incident_id: uuid.UUID,
    actor: Actor,
    now: datetime,
    user_id: uuid.UUID | None = None,
    policy_id: uuid.UUID | None = None,
) -> Incident:
    """Hand the incident to one person or another policy; escalation restarts for the
    new target at once (an acknowledged incident is triggered again for them)."""
    if (user_id is None) == (policy_id is None):
        raise InvalidInput("user_id", "reassign to exactly one of user_id or escalation_policy_id")
    incident = await _load(session, incident_id)
    _authorize(actor, incident)
    if user_id is not None:
        user = await session.get(User, user_id)
        if user is None or not user.is_active:
            raise InvalidInput("user_id", "reassign to an active user")
        snapshot = policy_snapshots.single_user(
            user.id, name=user.name, delay_minutes=REASSIGNED_DELAY_MINUTES
        )
        target: dict[str, object] = {"user_id": str(user.id), "name": user.name}
    else:
        assert policy_id is not None
        try:
            snapshot = await policies.load_snapshot(session, policy_id)
        except NotFound as missing:
            raise InvalidInput("escalation_policy_id", missing.detail) from missing
        target = {"escalation_policy_id": str(policy_id), "name": snapshot.name}
    changed = await _transition(
        session,
        incident_id,
        allowed=(IncidentStatus.TRIGGERED, IncidentStatus.ACKNOWLEDGED),
        values={
            **_RETRIGGER,
            "escalation_policy_id": snapshot.policy_id,
            "escalation_snapshot": snapshot.as_json(),
            "escalation_level": 0,
            "escalation_loop": 0,
        },
        now=now,
    )
    await _record(session, changed, actor, "incident.reassigned", now, target)
    await steps.advance(
        session,
        await steps.state_of(session, changed),
        now=now,
        actor=actor,
        cause=f"reassigned by {actor.principal.label}",
    )
    return await _reload(session, incident_id)


async def escalate_now(
    session: AsyncSession,
    *,
    incident_id: uuid.UUID,
    actor: Actor,
    now: datetime,
    level: int | None = None,
) -> Incident:
    """Page the next level (or ``level``) now, without waiting for the delay."""
    incident = await _load(session, incident_id)
    _authorize(actor, incident)
    policy = (await steps.state_of(session, incident)).policy
    if not policy.levels:
        raise InvalidInput("level", "this incident has no escalation policy to escalate through")
    if level is not None and not 1 <= level <= len(policy.levels):
        raise InvalidInput("level", f"level must be between 1 and {len(policy.levels)}")
    changed = await _transition(
        session,
        incident_id,
        allowed=(IncidentStatus.TRIGGERED, IncidentStatus.ACKNOWLEDGED),
        values=dict(_RETRIGGER),
        now=now,
    )
    state = await steps.state_of(session, changed)
    step = escalation.jump_to(state.policy, state.progress, level)
    await steps.advance(
        session,
        state,
        now=now,
        step=step,
        actor=actor,
        cause=f"escalated by {actor.principal.label}",
    )
    return await _reload(session, incident_id)


async def add_note(
    session: AsyncSession, *, incident_id: uuid.UUID, actor: Actor, text: str, now: datetime
) -> None:
    cleaned = text.strip()
    if not cleaned or len(cleaned) > 10_000:
        raise InvalidInput("text", "a note has 1 to 10,000 characters")
    incident = await _load(session, incident_id)
    _authorize(actor, incident)
    await _record(session, incident, actor, "incident.note_added", now, {"note": cleaned})


# An acknowledged incident that is reassigned or escalated by hand is triggered again.
_RETRIGGER: dict[str, object] = {
    "status": IncidentStatus.TRIGGERED,
    "acknowledged_at": None,
    "acknowledged_by": None,
    "acknowledged_by_user_id": None,
    "reopen_at": None,
    "snoozed_until": None,
}


async def _transition(
    session: AsyncSession,
    incident_id: uuid.UUID,
    *,
    allowed: tuple[IncidentStatus, ...],
    values: dict[str, object],
    now: datetime,
) -> Incident:
    """The compare-and-set at the heart of every transition."""
    next_status = values.get("status")
    escalating = next_status is IncidentStatus.TRIGGERED
    updated = (
        await session.execute(
            sa.update(Incident)
            .where(Incident.id == incident_id, Incident.status.in_(allowed))
            .values(
                **values,
                escalation_token=Incident.escalation_token + 1,
                # Leaving "triggered" stops escalation in the same statement; entering it
                # leaves the schedule to ``escalations.advance``.
                next_escalation_at=sa.null() if not escalating else Incident.next_escalation_at,
                updated_at=next_version(now),
            )
            .returning(Incident.id)
            .execution_options(synchronize_session=False)
        )
    ).first()
    if updated is None:
        raise await _lost(session, incident_id, allowed)
    changed = await _reload(session, incident_id)
    # What chat and push channels show of the incident is now behind (engine/follow_ups).
    await wake_engine(session, "follow_ups")
    if not escalating:
        # Leaving "triggered" cancels every pending notification in this same transaction.
        await cancellations.cancel_pending(session, incident=changed, now=now)
    return changed


async def _lost(
    session: AsyncSession, incident_id: uuid.UUID, allowed: tuple[IncidentStatus, ...]
) -> StaleTransition:
    current = await _reload(session, incident_id)
    if current.status is IncidentStatus.RESOLVED:
        who, when = current.resolved_by, current.resolved_at
    else:
        who, when = current.acknowledged_by, current.acknowledged_at
    expected = " or ".join(status.value for status in allowed)
    return StaleTransition(
        f"incident #{current.number} is already {current.status.value}"
        + (f" by {who}" if who else "")
        + (f" at {when.isoformat()}" if when else "")
        + f" (this action needs it {expected})",
        # Not "status": that member of a problem+json body is the HTTP status code.
        incident_status=current.status.value,
        by=who,
        at=when.isoformat() if when else None,
        number=current.number,
    )


async def _load(session: AsyncSession, incident_id: uuid.UUID) -> Incident:
    incident = await session.get(Incident, incident_id)
    if incident is None:
        raise NotFound("incident", incident_id)
    return incident


async def _reload(session: AsyncSession, incident_id: uuid.UUID) -> Incident:
    incident = (
        await session.scalars(
            sa.select(Incident)
            .where(Incident.id == incident_id)
            .execution_options(populate_existing=True)
        )
    ).one()
    return incident


def _authorize(actor: Actor, incident: Incident) -> None:
    # A monitoring tool acting on its own alerts (an acknowledge or resolve event) was
    # authenticated by its integration key; it is not a person with a team role.
    if actor.principal.kind is PrincipalKind.INTEGRATION:
        return
    authorize(actor.principal, Action.RESPOND_TO_INCIDENT, team_id=incident.team_id)


async def _record(
    session: AsyncSession,
    incident: Incident,
    actor: Actor,
    action: str,
    now: datetime,
    details: dict[str, object],
) -> None:
    await audit.record(
        session,
        actor=actor,
        action=action,
        resource_type="incident",
        resource_id=incident.id,
        team_id=incident.team_id,
        now=now,
        details=details,
    )
