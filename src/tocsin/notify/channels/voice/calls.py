"""A call as it is answered: the delivery it carries, read from the database when the
provider asks what to say, and what a key pressed does, as the person called.

The person who picks up acts as the person the call was for, as with PagerDuty's and
GoAlert's calls: the phone is theirs, verified by a code, and the provider's request is
signed. Everything goes through ``actions/`` with that person's permissions, and the
timeline says "via voice".
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
import sqlalchemy.orm
from sqlalchemy.ext.asyncio import AsyncSession

from tocsin.actions import principals
from tocsin.actions.actors import Actor
from tocsin.actions.incidents import incidents
from tocsin.db.models.deliveries import Delivery
from tocsin.db.models.incidents import Incident, Page
from tocsin.db.models.services import Service
from tocsin.db.models.users import User
from tocsin.db.session import Database
from tocsin.domain.channels import ChannelKind
from tocsin.domain.deliveries import Purpose
from tocsin.domain.incidents import IncidentStatus
from tocsin.errors import NotFound, PermissionDenied, StaleTransition, TocsinError
from tocsin.notify import wording
from tocsin.notify.channels.voice import speech

VIA = "voice"


@dataclass(frozen=True)
class Answered:
    """A voice delivery and what its call is about."""

    delivery_id: uuid.UUID
    purpose: Purpose
    user_id: uuid.UUID
    name: str
    level: int
    details: dict[str, Any]
    incidents: tuple[tuple[uuid.UUID, speech.Incident], ...]

    @property
    def open(self) -> list[tuple[uuid.UUID, speech.Incident]]:
        return [(id, said) for id, said in self.incidents if said.status != IncidentStatus.RESOLVED]

    def words(self) -> str:
        """What the call says first (the menu follows for a page or digest still open)."""
        first = self.incidents[0][1] if self.incidents else None
        if self.purpose is Purpose.PAGE and first is not None:
            if first.status != IncidentStatus.TRIGGERED:
                return speech.settled(first)
            return speech.page(first, name=self.name, level=self.level)
        if self.purpose is Purpose.DIGEST:
            still = [said for _, said in self.incidents if said.status == IncidentStatus.TRIGGERED]
            if not still:
                return speech.nothing_open()
            return speech.digest(still, name=self.name)
        if self.purpose is Purpose.STATUS and first is not None:
            return speech.status(
                first, event=self.details.get("event", "changed"), by=self.details.get("by", "")
            )
        if self.purpose is Purpose.SHIFT:
            return speech.shift(self.details.get("schedule", "a schedule"))
        return speech.verification(self.details.get("code", ""))

    def voicemail(self) -> str:
        """What an answering machine is left: the short page, or for anything else (a
        code, a shift) what the call says."""
        if self.asks and self.incidents:
            return speech.voicemail(self.incidents[0][1])
        return self.words()

    @property
    def asks(self) -> bool:
        """Whether the call offers the keypad menu (a page or digest still triggered)."""
        if self.purpose not in (Purpose.PAGE, Purpose.DIGEST):
            return False
        return any(said.status == IncidentStatus.TRIGGERED for _, said in self.incidents)


async def load(session: AsyncSession, delivery_id: uuid.UUID) -> Answered | None:
    row = (
        await session.execute(
            sa.select(Delivery, User.name, Page.level)
            .join(User, User.id == Delivery.user_id)
            .outerjoin(Page, Page.id == Delivery.page_id)
            .where(Delivery.id == delivery_id, Delivery.kind == ChannelKind.VOICE)
        )
    ).first()
    if row is None:
        return None
    delivery, name, level = row
    carried = (
        sa.select(Delivery.incident_id).where(Delivery.digest_id == delivery.id).scalar_subquery()
        if delivery.purpose is Purpose.DIGEST
        else sa.select(sa.literal(delivery.incident_id, sa.Uuid)).scalar_subquery()
    )
    # Who acted is said by name ("already acknowledged by Ada"), not by the e-mail
    # address the timeline records.
    acknowledger, resolver = sa.orm.aliased(User), sa.orm.aliased(User)
    found = await session.execute(
        sa.select(
            Incident,
            Service.name,
            sa.func.coalesce(acknowledger.name, Incident.acknowledged_by),
            sa.func.coalesce(resolver.name, Incident.resolved_by),
        )
        .join(Service, Service.id == Incident.service_id)
        .outerjoin(acknowledger, acknowledger.id == Incident.acknowledged_by_user_id)
        .outerjoin(resolver, resolver.id == Incident.resolved_by_user_id)
        .where(Incident.id.in_(carried))
        .order_by(Incident.number)
    )
    return Answered(
        delivery_id=delivery.id,
        purpose=delivery.purpose,
        user_id=delivery.user_id,
        name=name,
        level=level or 1,
        details=dict(delivery.details),
        incidents=tuple(
            (
                incident.id,
                speech.Incident(
                    number=incident.number,
                    title=incident.title,
                    service=service,
                    severity=incident.severity.value,
                    status=incident.status.value,
                    acknowledged_by=acknowledged_by,
                    resolved_by=resolved_by,
                ),
            )
            for incident, service, acknowledged_by, resolved_by in found.all()
        ),
    )


async def forget_code(session: AsyncSession, delivery_id: uuid.UUID) -> None:
    """The call is over: the verification code was kept only to be read aloud."""
    await session.execute(
        sa.update(Delivery)
        .where(Delivery.id == delivery_id, Delivery.details.has_key("code"))
        .values(details=Delivery.details.op("-")("code"))
    )


async def press(database: Database, call: Answered, key: str, *, now: datetime) -> str:
    """Do what ``key`` (acknowledge, resolve, escalate) asks, to every incident the call
    carries that is still open, as the person called; the sentence to say."""
    changed: list[int] = []
    refusal: str | None = None
    for incident_id, said in call.open:
        try:
            async with database.transaction() as session:
                user = await session.get(User, call.user_id)
                if user is None or not user.is_active:
                    return f"Your tocsin account is not active. {speech.GOODBYE}"
                actor = Actor(await principals.user_principal(session, user), None, "voice")
                incident = await _change(session, key, incident_id, actor, now)
                if key == speech.ESCALATE and incident.escalation_exhausted_at is not None:
                    return speech.exhausted(incident.number)
                changed.append(incident.number)
        except StaleTransition as lost:
            refusal = f"Incident {said.number} is {wording.already(lost)}."
        except PermissionDenied:
            refusal = "You may not change this incident: you are not a responder of its team."
        except NotFound:
            refusal = f"Incident {said.number} is gone."
        except TocsinError as error:
            refusal = f"Nothing changed: {error.detail}"
    if changed:
        return speech.done(key, changed)
    return f"{refusal or 'Nothing is left to change.'} {speech.GOODBYE}"


async def _change(
    session: AsyncSession, key: str, incident_id: uuid.UUID, actor: Actor, now: datetime
) -> Incident:
    if key == speech.ACKNOWLEDGE:
        return await incidents.acknowledge(
            session, incident_id=incident_id, actor=actor, via=VIA, now=now
        )
    if key == speech.RESOLVE:
        return await incidents.resolve(
            session, incident_id=incident_id, actor=actor, via=VIA, now=now
        )
    return await incidents.escalate_now(session, incident_id=incident_id, actor=actor, now=now)
