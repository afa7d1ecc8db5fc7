"""What a Slack user's press or command does, as the tocsin person they are linked to.

Everything goes through the same ``actions/`` functions as the API, with the same
permissions, and the timeline says "via Slack". The answers are short sentences for an
ephemeral Slack message: what happened, or why nothing did.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from tocsin.actions.actors import Actor
from tocsin.actions.incidents import incidents, queries
from tocsin.actions.oncall import on_call
from tocsin.db.models.incidents import Incident
from tocsin.db.models.schedules import Schedule
from tocsin.db.models.users import User
from tocsin.db.session import Database
from tocsin.domain.incidents import IncidentStatus
from tocsin.errors import NotFound, PermissionDenied, StaleTransition, TocsinError
from tocsin.notify import wording
from tocsin.notify.channels.slack import blocks

VIA = "slack"


async def incident_id_of(session: AsyncSession, number: int) -> uuid.UUID | None:
    return await session.scalar(sa.select(Incident.id).where(Incident.number == number))


@dataclass(frozen=True)
class Answer:
    changed: bool
    text: str


async def act(
    database: Database,
    *,
    actor: Actor,
    action: str,
    incident_id: uuid.UUID,
    now: datetime,
    snooze_minutes: int | None = None,
) -> Answer:
    """Do ``action`` on the incident; whether it changed, and the sentence to answer."""
    try:
        async with database.transaction() as session:
            changed = await _apply(session, actor, action, incident_id, now, snooze_minutes)
            done = _done(action, snooze_minutes)
            return Answer(True, f"{done} incident #{changed.number}: {changed.title}")
    except StaleTransition as error:
        number = await _number(database, incident_id)
        return Answer(False, f"Incident #{number} is {wording.already(error)}.")
    except PermissionDenied:
        number = await _number(database, incident_id)
        return Answer(
            False, f"You may not change incident #{number}: you are not a responder of its team."
        )
    except NotFound:
        return Answer(False, "There is no such incident.")
    except TocsinError as error:
        return Answer(False, f"Nothing changed: {error.detail}")


async def _apply(
    session: AsyncSession,
    actor: Actor,
    action: str,
    incident_id: uuid.UUID,
    now: datetime,
    snooze_minutes: int | None,
) -> Incident:
    if action == blocks.ACKNOWLEDGE:
        return await incidents.acknowledge(
            session, incident_id=incident_id, actor=actor, via=VIA, now=now
        )
    if action == blocks.RESOLVE:
        return await incidents.resolve(
            session, incident_id=incident_id, actor=actor, via=VIA, now=now
        )
    if action == blocks.ESCALATE:
        return await incidents.escalate_now(session, incident_id=incident_id, actor=actor, now=now)
    if action == blocks.SNOOZE and snooze_minutes is not None:
        return await incidents.snooze(
            session,
            incident_id=incident_id,
            actor=actor,
            duration=timedelta(minutes=snooze_minutes),
            via=VIA,
            now=now,
        )
    raise NotFound("action", action)


def _done(action: str, snooze_minutes: int | None) -> str:
    if action == blocks.SNOOZE:
        return f"Snoozed for {blocks.duration(snooze_minutes or 60)}:"
    return {
        blocks.ACKNOWLEDGE: "Acknowledged",
        blocks.RESOLVE: "Resolved",
        blocks.ESCALATE: "Escalated",
    }[action]


async def _number(database: Database, incident_id: uuid.UUID) -> str:
    async with database.transaction() as session:
        number = await session.scalar(sa.select(Incident.number).where(Incident.id == incident_id))
    return str(number) if number is not None else "?"


async def open_incidents(session: AsyncSession, *, actor: Actor) -> str:
    page = await queries.list_incidents(
        session,
        actor=actor,
        filters=queries.IncidentFilter(
            statuses=(IncidentStatus.TRIGGERED, IncidentStatus.ACKNOWLEDGED)
        ),
        cursor=None,
        limit=10,
    )
    if not page.items:
        return "No open incidents."
    return "\n".join(
        f"• #{incident.number} [{incident.status.value}] {blocks.escape(incident.title)}"
        f" ({incident.urgency.value} urgency)"
        for incident in page.items
    )


async def who_is_on_call(session: AsyncSession, *, actor: Actor, name: str, now: datetime) -> str:
    query = sa.select(Schedule).order_by(Schedule.name).limit(20)
    if name:
        query = query.where(Schedule.name.ilike(name.replace("%", "").replace("_", "") + "%"))
    schedules = list((await session.scalars(query)).all())
    if not schedules:
        return f"No schedule named {blocks.escape(name)}." if name else "There are no schedules."
    lines = []
    for schedule in schedules:
        answer = await on_call.schedule_on_call(
            session, actor=actor, schedule_id=schedule.id, at=now
        )
        person = (
            await session.get(User, answer.answer.user_id)
            if answer.answer.user_id is not None
            else None
        )
        who = blocks.escape(person.name) if person else "nobody"
        lines.append(f"• {blocks.escape(schedule.name)}: {who}")
    return "\n".join(lines)
