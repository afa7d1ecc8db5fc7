"""Building what a delivery says (``notify.messages.Notice``) while it is claimed.

Runs in the claim transaction, after the incident's state was checked: the magic links it
mints are committed together with the delivery's ``sending`` state, so a link in a mail
always exists in the database.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from tocsin.actions import magic_links
from tocsin.db.models.contact_methods import ContactMethod
from tocsin.db.models.deliveries import Delivery
from tocsin.db.models.incidents import Incident, Page
from tocsin.db.models.services import Service
from tocsin.db.models.teams import Team
from tocsin.db.models.users import User
from tocsin.domain.deliveries import DeliveryStatus, Purpose
from tocsin.domain.incidents import IncidentStatus
from tocsin.domain.notices import IncidentFacts, Notice, Recipient

LINK_MARGIN = timedelta(minutes=5)


@dataclass(frozen=True)
class LinkPolicy:
    base_url: str
    # The shortest life of an action link; it also outlives the escalation it would stop.
    min_ttl: timedelta


async def build(
    session: AsyncSession, delivery: Delivery, *, policy: LinkPolicy, now: datetime
) -> Notice:
    user = await session.get(User, delivery.user_id)
    method = (
        await session.get(ContactMethod, delivery.contact_method_id)
        if delivery.contact_method_id
        else None
    )
    assert user is not None
    assert method is not None
    recipient = Recipient(user.id, user.name, method.address, user.time_zone)
    details = delivery.details
    base = Notice(
        delivery_id=delivery.id,
        purpose=delivery.purpose,
        recipient=recipient,
        now=now,
        base_url=policy.base_url,
        message_id=details.get("message_id"),
        thread_id=details.get("thread_id"),
    )
    if delivery.purpose is Purpose.PAGE:
        assert delivery.incident_id is not None
        assert delivery.page_id is not None
        incident = await _incident(session, delivery.incident_id)
        page = await session.get(Page, delivery.page_id)
        expires = _expiry(incident, policy, now)
        facts = await _facts(
            session,
            incident,
            policy,
            user_id=user.id,
            delivery_id=delivery.id,
            expires=expires,
            now=now,
        )
        return replace(
            base,
            incidents=(facts,),
            level=page.level if page else 1,
            links_expire_at=expires,
        )
    if delivery.purpose is Purpose.DIGEST:
        members = await bundled_incidents(session, delivery.id)
        expires = max(_expiry(incident, policy, now) for incident in members)
        facts_list = [
            await _facts(
                session,
                incident,
                policy,
                user_id=user.id,
                delivery_id=delivery.id,
                expires=expires,
                now=now,
            )
            for incident in members
        ]
        links = {
            action: magic_links.issue_url(
                policy.base_url,
                await magic_links.issue(
                    session,
                    action=action,
                    user_id=user.id,
                    expires_at=expires,
                    now=now,
                    digest_id=delivery.id,
                    delivery_id=delivery.id,
                ),
            )
            for action in magic_links.LinkAction
        }
        return replace(
            base,
            incidents=tuple(facts_list),
            acknowledge_all_url=links[magic_links.LinkAction.ACKNOWLEDGE],
            resolve_all_url=links[magic_links.LinkAction.RESOLVE],
            links_expire_at=expires,
        )
    if delivery.purpose is Purpose.STATUS:
        assert delivery.incident_id is not None
        incident = await _incident(session, delivery.incident_id)
        facts = await _facts(
            session, incident, policy, user_id=None, delivery_id=None, expires=None, now=now
        )
        return replace(
            base,
            incidents=(facts,),
            event=details["event"],
            event_by=details["by"],
            event_at=datetime.fromisoformat(details["at"]),
        )
    if delivery.purpose is Purpose.SHIFT:
        return replace(
            base, schedule=details["schedule"], event_at=datetime.fromisoformat(details["at"])
        )
    return replace(base, verification_url=details.get("verification_url"))


async def bundled_incidents(session: AsyncSession, digest_id: uuid.UUID) -> list[Incident]:
    """The still-triggered incidents a digest carries, by number."""
    members = sa.select(Delivery.incident_id).where(
        Delivery.digest_id == digest_id, Delivery.status == DeliveryStatus.BUNDLED
    )
    found = await session.scalars(
        sa.select(Incident)
        .where(Incident.id.in_(members), Incident.status == IncidentStatus.TRIGGERED)
        .order_by(Incident.number)
    )
    return list(found.all())


def _expiry(incident: Incident, policy: LinkPolicy, now: datetime) -> datetime:
    # A link never dies before the escalation it would stop has come.
    expires = now + policy.min_ttl
    if incident.next_escalation_at is not None:
        expires = max(expires, incident.next_escalation_at + LINK_MARGIN)
    return expires


async def _incident(session: AsyncSession, incident_id: uuid.UUID) -> Incident:
    incident = await session.get(Incident, incident_id)
    assert incident is not None
    return incident


async def _facts(
    session: AsyncSession,
    incident: Incident,
    policy: LinkPolicy,
    *,
    user_id: uuid.UUID | None,
    delivery_id: uuid.UUID | None,
    expires: datetime | None,
    now: datetime,
) -> IncidentFacts:
    service = await session.get(Service, incident.service_id)
    team = await session.get(Team, incident.team_id)
    urls: dict[str, str | None] = {"acknowledge_url": None, "resolve_url": None}
    if user_id is not None and expires is not None:
        for action in magic_links.LinkAction:
            token = await magic_links.issue(
                session,
                action=action,
                user_id=user_id,
                expires_at=expires,
                now=now,
                incident_id=incident.id,
                delivery_id=delivery_id,
            )
            urls[f"{action.value}_url"] = magic_links.issue_url(policy.base_url, token)
    return IncidentFacts(
        id=incident.id,
        number=incident.number,
        title=incident.title,
        description=incident.description,
        service=service.name if service else "",
        team=team.name if team else "",
        urgency=incident.urgency.value,
        severity=incident.severity.value,
        status=incident.status.value,
        triggered_at=incident.created_at,
        alert_count=incident.alert_count,
        url=f"{policy.base_url}/incidents/{incident.id}",
        **urls,
    )
