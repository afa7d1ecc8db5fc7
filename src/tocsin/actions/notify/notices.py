"""Building what a delivery says (``domain.notices.Notice``) while it is claimed.

Runs in the claim transaction, after the checks, for a whole batch at once: the claim's one
query brings each delivery with its recipient, method, page and incident (``Claimed``),
one more brings the incidents digests carry (``digest_members``), and the magic links are
minted into a ``magic_links.Issuer`` that inserts them all with the deliveries' ``sending``
state, so a link in a mail always exists in the database. Building a notice itself reads
nothing: it is a function of those rows.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from tocsin.actions.notify import magic_links, statements
from tocsin.db import driver
from tocsin.domain.channels import ChannelKind
from tocsin.domain.deliveries import Purpose
from tocsin.domain.incidents import IncidentStatus
from tocsin.domain.notices import IncidentFacts, Notice, Recipient, thread_id

LINK_MARGIN = timedelta(minutes=5)


@dataclass(frozen=True)
class LinkPolicy:
    base_url: str
    # The shortest life of an action link; it also outlives the escalation it would stop.
    min_ttl: timedelta
    # The domain of Message-IDs (email threads).
    thread_domain: str


@dataclass(frozen=True)
class IncidentRow:
    """An incident as a message shows it (columns of ``CLAIM_DELIVERIES`` and
    ``DIGEST_MEMBERS``, in this order)."""

    id: uuid.UUID
    status: str
    service_id: uuid.UUID
    number: int
    title: str
    description: str
    severity: str
    urgency: str
    created_at: datetime
    alert_count: int
    next_escalation_at: datetime | None
    service: str
    team: str

    @property
    def triggered(self) -> bool:
        return self.status == IncidentStatus.TRIGGERED.value

    def facts(self, base_url: str, urls: dict[str, str | None]) -> IncidentFacts:
        return IncidentFacts(
            id=self.id,
            number=self.number,
            title=self.title,
            description=self.description,
            service=self.service,
            team=self.team,
            urgency=self.urgency,
            severity=self.severity,
            status=self.status,
            triggered_at=self.created_at,
            alert_count=self.alert_count,
            url=f"{base_url}/incidents/{self.id}",
            acknowledge_url=urls.get("acknowledge_url"),
            resolve_url=urls.get("resolve_url"),
        )


@dataclass(frozen=True)
class Claimed:
    """A claimed delivery with what its checks and its message need (one row of
    ``CLAIM_DELIVERIES``)."""

    id: uuid.UUID
    purpose: Purpose
    kind: ChannelKind
    attempts: int
    page_id: uuid.UUID | None
    incident_id: uuid.UUID | None
    user_id: uuid.UUID
    contact_method_id: uuid.UUID | None
    details: dict[str, Any]
    # The method exists and is not disabled.
    method_usable: bool
    address: str | None
    verified: bool
    name: str
    time_zone: str
    level: int | None
    # What the contact method keeps beside its address (a push subscription's keys).
    method_details: dict[str, Any]
    incident: IncidentRow | None

    @classmethod
    def from_row(cls, row: Sequence[Any]) -> Claimed:
        return cls(
            id=row[0],
            purpose=Purpose(row[1]),
            kind=ChannelKind(row[2]),
            attempts=row[3],
            page_id=row[4],
            incident_id=row[5],
            user_id=row[6],
            contact_method_id=row[7],
            details=row[8],
            method_usable=bool(row[9]),
            address=row[10],
            verified=row[11],
            name=row[12],
            time_zone=row[13],
            level=row[14],
            method_details=row[15],
            incident=IncidentRow(*row[16:]) if row[16] is not None else None,
        )


async def digest_members(
    session: AsyncSession, digest_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, list[IncidentRow]]:
    """The still-triggered incidents each digest carries, by number."""
    members: dict[uuid.UUID, list[IncidentRow]] = defaultdict(list)
    if digest_ids:
        rows = await driver.execute(
            session, statements.DIGEST_MEMBERS, {"digest_ids": list(digest_ids)}
        )
        for digest_id, *incident in rows:
            members[digest_id].append(IncidentRow(*incident))
    return members


def build(
    claimed: Claimed,
    *,
    members: Sequence[IncidentRow],
    policy: LinkPolicy,
    links: magic_links.Issuer,
    now: datetime,
) -> Notice:
    """What the claimed delivery says; its action links are minted into ``links``."""
    assert claimed.address is not None  # the checks failed deliveries without a method
    details = claimed.details
    base = Notice(
        delivery_id=claimed.id,
        purpose=claimed.purpose,
        recipient=Recipient(
            claimed.user_id,
            claimed.name,
            claimed.address,
            claimed.time_zone,
            method_details=claimed.method_details,
        ),
        now=now,
        base_url=policy.base_url,
        message_id=details.get("message_id"),
        thread_id=details.get("thread_id"),
    )
    if claimed.purpose is Purpose.PAGE:
        assert claimed.incident is not None
        expires = _expiry(claimed.incident, policy, now)
        urls = _links(links, policy, claimed, expires, incident_id=claimed.incident.id)
        return replace(
            base,
            incidents=(claimed.incident.facts(policy.base_url, urls),),
            level=claimed.level or 1,
            links_expire_at=expires,
        )
    if claimed.purpose is Purpose.DIGEST:
        expires = max(_expiry(incident, policy, now) for incident in members)
        facts = tuple(
            incident.facts(
                policy.base_url,
                _links(links, policy, claimed, expires, incident_id=incident.id),
            )
            for incident in members
        )
        every = _links(links, policy, claimed, expires, digest_id=claimed.id)
        return replace(
            base,
            incidents=facts,
            acknowledge_all_url=every["acknowledge_url"],
            resolve_all_url=every["resolve_url"],
            links_expire_at=expires,
        )
    if claimed.purpose is Purpose.STATUS:
        assert claimed.incident is not None
        return replace(
            base,
            # In the incident's thread, after the page that told them of it.
            thread_id=thread_id(claimed.incident.id, claimed.user_id, policy.thread_domain),
            incidents=(claimed.incident.facts(policy.base_url, {}),),
            event=details["event"],
            event_by=details["by"],
            event_at=datetime.fromisoformat(details["at"]),
        )
    if claimed.purpose is Purpose.SHIFT:
        return replace(
            base, schedule=details["schedule"], event_at=datetime.fromisoformat(details["at"])
        )
    if claimed.purpose is Purpose.INVITATION:
        return replace(
            base,
            sign_in_url=details.get("sign_in_url"),
            links_expire_at=datetime.fromisoformat(details["expires_at"]),
            event_by=details.get("by"),
        )
    return replace(
        base,
        verification_url=details.get("verification_url"),
        verification_code=details.get("code"),
    )


def _links(
    links: magic_links.Issuer,
    policy: LinkPolicy,
    claimed: Claimed,
    expires: datetime,
    *,
    incident_id: uuid.UUID | None = None,
    digest_id: uuid.UUID | None = None,
) -> dict[str, str | None]:
    """Acknowledge and Resolve links for the recipient, bound to one incident or a
    digest."""
    return {
        f"{action.value}_url": magic_links.issue_url(
            policy.base_url,
            links.issue(
                action=action,
                user_id=claimed.user_id,
                expires_at=expires,
                incident_id=incident_id,
                digest_id=digest_id,
                delivery_id=claimed.id,
            ),
        )
        for action in magic_links.LinkAction
    }


def _expiry(incident: IncidentRow, policy: LinkPolicy, now: datetime) -> datetime:
    # A link never dies before the escalation it would stop has come.
    expires = now + policy.min_ttl
    if incident.next_escalation_at is not None:
        expires = max(expires, incident.next_escalation_at + LINK_MARGIN)
    return expires
