"""Keeping chat and push messages in step with their incidents: the database side.

Two kinds of message change after they are sent (``notify/channels/base.py``):

* **posts** in a service's or its team's shared places (``post_target``): one
  ``incident_post`` per incident and place, created here for every incident of the
  service (or of the team's services) made after the place was named, leased while the
  engine calls the channel, and marked with the incident version it showed. The lease is
  what keeps two engines from posting one incident twice to one place: a post is only
  ever created by the engine holding its lease, and a lost lease (the engine died) lets
  the next engine post it after ``lease`` has passed.
* **sent pages** of channels that refresh them (a Slack DM, a push notification): the
  delivery's ``refreshed_version`` is moved to the incident's ``updated_at`` *before* the
  call, in the claim, so no other engine takes the same refresh. A refresh that fails is
  put back (a conditional UPDATE, so a newer claim is never undone) and tried again on a
  later tick; one lost with a dying engine leaves the message one state behind, which the
  incident's next change repairs. A page is never sent or withheld by this: it only
  changes what an already sent message shows.

Only incidents changed since ``since`` are looked at (through ``ix_incident_updated_at``):
the lane passes the time of its previous look less a margin, and looks back the whole
``HORIZON`` (a day) now and then and after a start, so its queries stay small however
busy the system is; an incident quiet for longer than a day has nothing to bring in step.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from tocsin.actions.notify.notices import IncidentRow
from tocsin.db.models.audit import AuditEvent
from tocsin.db.models.contact_methods import ContactMethod
from tocsin.db.models.deliveries import Delivery
from tocsin.db.models.follow_ups import IncidentPost, PostTarget
from tocsin.db.models.incidents import Incident
from tocsin.db.models.services import Service
from tocsin.db.models.teams import Team
from tocsin.domain.channels import ChannelKind
from tocsin.domain.deliveries import SUCCEEDED, Purpose

HORIZON = timedelta(days=1)
# The waits after a failed post or update: a place that is down is tried less and less
# often, never less than every ten minutes.
POST_RETRY_WAITS = (
    timedelta(seconds=10),
    timedelta(seconds=30),
    timedelta(minutes=1),
    timedelta(minutes=3),
    timedelta(minutes=10),
)
# Timeline events worth a line in a post's thread.
THREADED_ACTIONS = (
    "incident.acknowledged",
    "incident.resolved",
    "incident.escalated",
    "incident.reassigned",
    "incident.snoozed",
    "incident.reopened",
    "incident.note_added",
)


@dataclass(frozen=True)
class IncidentView:
    """An incident as a follow-up shows it."""

    row: IncidentRow
    version: datetime
    level: int
    acknowledged_by: str | None
    resolved_by: str | None


@dataclass(frozen=True)
class TimelineEvent:
    id: int
    at: datetime
    action: str
    actor: str
    details: dict[str, Any]


@dataclass(frozen=True)
class ClaimedPost:
    id: uuid.UUID
    lease_until: datetime
    target_id: uuid.UUID
    kind: ChannelKind
    address_encrypted: str
    target_details: dict[str, Any]
    reference: str | None
    synced_event_id: int
    incident_id: uuid.UUID


@dataclass(frozen=True)
class ClaimedRefresh:
    delivery_id: uuid.UUID
    # What ``refreshed_version`` was before the claim moved it (put back on failure).
    previous: datetime | None
    version: datetime
    kind: ChannelKind
    user_id: uuid.UUID
    address: str
    details: dict[str, Any]
    provider: str | None
    provider_message_id: str
    incident_id: uuid.UUID
    method_details: dict[str, Any]


async def open_posts(
    session: AsyncSession, *, kinds: Collection[ChannelKind], since: datetime, now: datetime
) -> int:
    """Create the missing posts: every incident changed lately, made after one of its
    service's or its team's working places of ``kinds`` was named, gets one post there."""
    if not kinds:
        return 0
    pairs = (
        sa.select(
            # Each row its own id: the model's Python-side default would be one value for
            # the whole statement, and an incident posted to two places is two rows.
            sa.func.gen_random_uuid(),
            PostTarget.id,
            Incident.id,
            sa.literal(0, sa.BigInteger),
            sa.literal(0),
            sa.literal(now),
            sa.literal(now),
            sa.literal(now),
        )
        # A service's own places, and its team's (the incident's team is its service's).
        .join(
            Incident,
            sa.or_(
                Incident.service_id == PostTarget.service_id,
                Incident.team_id == PostTarget.team_id,
            ),
        )
        .where(
            PostTarget.kind.in_(list(kinds)),
            PostTarget.broken_at.is_(None),
            Incident.updated_at > since,
            Incident.created_at >= PostTarget.created_at,
        )
    )
    result = await session.execute(
        insert(IncidentPost)
        .from_select(
            [
                IncidentPost.id,
                IncidentPost.target_id,
                IncidentPost.incident_id,
                IncidentPost.synced_event_id,
                IncidentPost.attempts,
                IncidentPost.next_attempt_at,
                IncidentPost.created_at,
                IncidentPost.updated_at,
            ],
            pairs,
        )
        .on_conflict_do_nothing(index_elements=["target_id", "incident_id"])
        .returning(IncidentPost.id)
    )
    return len(result.all())


async def claim_posts(
    session: AsyncSession, *, lease: timedelta, since: datetime, now: datetime, limit: int
) -> list[ClaimedPost]:
    """Lease up to ``limit`` posts behind their incident and due."""
    behind = (
        sa.select(IncidentPost.id)
        .join(Incident, Incident.id == IncidentPost.incident_id)
        .join(PostTarget, PostTarget.id == IncidentPost.target_id)
        .where(
            # A post waiting for its retry may belong to an incident quiet since.
            sa.or_(
                Incident.updated_at > since,
                sa.and_(IncidentPost.attempts > 0, Incident.updated_at > now - HORIZON),
            ),
            sa.or_(
                IncidentPost.synced_version.is_(None),
                IncidentPost.synced_version < Incident.updated_at,
            ),
            IncidentPost.next_attempt_at <= now,
            sa.or_(IncidentPost.lease_until.is_(None), IncidentPost.lease_until < now),
            PostTarget.broken_at.is_(None),
        )
        .order_by(IncidentPost.next_attempt_at)
        .limit(limit)
        .with_for_update(of=IncidentPost, skip_locked=True)
    )
    leased = (
        sa.update(IncidentPost)
        .where(IncidentPost.id.in_(behind.scalar_subquery()))
        .values(lease_until=now + lease, updated_at=now)
        .returning(
            IncidentPost.id,
            IncidentPost.lease_until,
            IncidentPost.target_id,
            IncidentPost.reference,
            IncidentPost.synced_event_id,
            IncidentPost.incident_id,
        )
        .cte("leased")
    )
    rows = await session.execute(
        sa.select(
            leased.c.id,
            leased.c.lease_until,
            leased.c.target_id,
            PostTarget.kind,
            PostTarget.address_encrypted,
            PostTarget.details,
            leased.c.reference,
            leased.c.synced_event_id,
            leased.c.incident_id,
        ).join(PostTarget, PostTarget.id == leased.c.target_id)
    )
    return [ClaimedPost(*row) for row in rows.all()]


async def posted(
    session: AsyncSession,
    post: ClaimedPost,
    *,
    reference: str,
    version: datetime,
    event_id: int,
    now: datetime,
) -> bool:
    """The channel showed ``version``: keep its reference and release the lease. False when
    the lease was lost meanwhile (another engine's word then counts)."""
    result = await session.execute(
        sa.update(IncidentPost)
        .where(IncidentPost.id == post.id, IncidentPost.lease_until == post.lease_until)
        .values(
            reference=sa.func.coalesce(IncidentPost.reference, reference),
            synced_version=version,
            synced_event_id=sa.func.greatest(IncidentPost.synced_event_id, event_id),
            attempts=0,
            lease_until=None,
            error_detail=None,
            updated_at=now,
        )
        .returning(IncidentPost.id)
    )
    return result.first() is not None


async def post_failed(
    session: AsyncSession,
    post: ClaimedPost,
    *,
    detail: str,
    permanent: bool,
    retry_after: timedelta | None,
    now: datetime,
) -> None:
    """Try again later, or, when the place itself is gone, mark it broken (shown on the
    service's page) and stop posting there."""
    # The wait grows with the failures in a row (``attempts`` before this one).
    backoff = sa.case(
        *[(IncidentPost.attempts == index, wait) for index, wait in enumerate(POST_RETRY_WAITS)],
        else_=POST_RETRY_WAITS[-1],
    )
    due: Any = now + retry_after if retry_after is not None else sa.literal(now) + backoff
    await session.execute(
        sa.update(IncidentPost)
        .where(IncidentPost.id == post.id, IncidentPost.lease_until == post.lease_until)
        .values(
            attempts=IncidentPost.attempts + 1,
            next_attempt_at=due,
            lease_until=None,
            error_detail=detail[:1000],
            updated_at=now,
        )
    )
    if permanent:
        await session.execute(
            sa.update(PostTarget)
            .where(PostTarget.id == post.target_id, PostTarget.broken_at.is_(None))
            .values(broken_at=now, broken_reason=detail[:300], updated_at=now)
        )


async def claim_refreshes(
    session: AsyncSession,
    *,
    kinds: Collection[ChannelKind],
    since: datetime,
    now: datetime,
    limit: int,
) -> list[ClaimedRefresh]:
    """Sent pages of ``kinds`` whose incident changed since they last showed it, claimed
    by moving their ``refreshed_version`` to the incident's (see the module docstring)."""
    if not kinds:
        return []
    shown = sa.func.coalesce(Delivery.refreshed_version, Delivery.sent_at)
    behind = (
        sa.select(
            Delivery.id,
            Delivery.refreshed_version,
            Incident.updated_at,
            ContactMethod.address,
            ContactMethod.details.label("method_details"),
        )
        .join(Incident, Incident.id == Delivery.incident_id)
        .join(ContactMethod, ContactMethod.id == Delivery.contact_method_id)
        .where(
            Incident.updated_at > since,
            Delivery.kind.in_(list(kinds)),
            Delivery.purpose == Purpose.PAGE,
            Delivery.status.in_(list(SUCCEEDED)),
            Delivery.provider_message_id.is_not(None),
            shown < Incident.updated_at,
        )
        .limit(limit)
        .with_for_update(of=Delivery, skip_locked=True)
        .cte("behind")
    )
    rows = await session.execute(
        sa.update(Delivery)
        .where(Delivery.id == behind.c.id)
        .values(refreshed_version=behind.c.updated_at)
        .returning(
            Delivery.id,
            behind.c.refreshed_version,
            behind.c.updated_at,
            Delivery.kind,
            Delivery.user_id,
            behind.c.address,
            Delivery.details,
            Delivery.provider,
            Delivery.provider_message_id,
            Delivery.incident_id,
            behind.c.method_details,
        )
    )
    return [
        ClaimedRefresh(
            delivery_id=row[0],
            previous=row[1],
            version=row[2],
            kind=ChannelKind(row[3]),
            user_id=row[4],
            address=row[5],
            details=row[6],
            provider=row[7],
            provider_message_id=row[8],
            incident_id=row[9],
            method_details=row[10],
        )
        for row in rows.all()
    ]


async def refresh_failed(session: AsyncSession, refresh: ClaimedRefresh) -> None:
    """Put the claim back, unless a newer one has moved it on."""
    await session.execute(
        sa.update(Delivery)
        .where(Delivery.id == refresh.delivery_id, Delivery.refreshed_version == refresh.version)
        .values(refreshed_version=refresh.previous)
    )


async def incident_views(
    session: AsyncSession, incident_ids: Collection[uuid.UUID]
) -> dict[uuid.UUID, IncidentView]:
    rows = await session.execute(
        sa.select(
            Incident.id,
            Incident.status,
            Incident.service_id,
            Incident.number,
            Incident.title,
            Incident.description,
            Incident.severity,
            Incident.urgency,
            Incident.created_at,
            Incident.alert_count,
            Incident.next_escalation_at,
            Service.name,
            Team.name,
            Incident.updated_at,
            Incident.escalation_level,
            Incident.acknowledged_by,
            Incident.resolved_by,
        )
        .join(Service, Service.id == Incident.service_id)
        .join(Team, Team.id == Incident.team_id)
        .where(Incident.id.in_(list(incident_ids)))
    )
    views: dict[uuid.UUID, IncidentView] = {}
    for row in rows.all():
        # Enum columns come back as enums; a message shows their values, as the claim's
        # plain SQL gives them.
        values: list[Any] = [getattr(value, "value", value) for value in row[:13]]
        views[row[0]] = IncidentView(
            row=IncidentRow(*values),
            version=row[13],
            level=max(row[14], 1),
            acknowledged_by=row[15],
            resolved_by=row[16],
        )
    return views


async def timelines_after(
    session: AsyncSession, after: dict[uuid.UUID, int]
) -> dict[uuid.UUID, list[TimelineEvent]]:
    """For each incident of ``after``, its events worth a thread line after the event
    given, oldest first, in one query for the whole batch (each post then takes those
    after its own last shown event: ``thread_of``)."""
    if not after:
        return {}
    rows = await session.execute(
        sa.select(
            AuditEvent.resource_id,
            AuditEvent.id,
            AuditEvent.occurred_at,
            AuditEvent.action,
            AuditEvent.actor_label,
            AuditEvent.details,
        )
        .where(
            AuditEvent.resource_type == "incident",
            AuditEvent.resource_id.in_([str(incident_id) for incident_id in after]),
            AuditEvent.id > min(after.values()),
            AuditEvent.action.in_(THREADED_ACTIONS),
        )
        .order_by(AuditEvent.id)
    )
    found: dict[uuid.UUID, list[TimelineEvent]] = {incident_id: [] for incident_id in after}
    for resource_id, *event in rows.all():
        incident_id = uuid.UUID(resource_id)
        if event[0] > after[incident_id]:
            found[incident_id].append(TimelineEvent(*event))
    return found


def thread_of(
    post: ClaimedPost, events: dict[uuid.UUID, list[TimelineEvent]]
) -> list[TimelineEvent]:
    """The thread lines an update of ``post`` shows: its incident's events after the last
    one it showed, at most 50 (none for a first post, which shows the incident as is)."""
    if post.reference is None:
        return []
    newer = [e for e in events.get(post.incident_id, []) if e.id > post.synced_event_id]
    return newer[:50]


async def last_event_ids(
    session: AsyncSession, incident_ids: Collection[uuid.UUID]
) -> dict[uuid.UUID, int]:
    """The newest timeline event of each incident (a first post shows the incident as it
    is; its thread starts after these)."""
    if not incident_ids:
        return {}
    rows = await session.execute(
        sa.select(AuditEvent.resource_id, sa.func.max(AuditEvent.id))
        .where(
            AuditEvent.resource_type == "incident",
            AuditEvent.resource_id.in_([str(incident_id) for incident_id in incident_ids]),
        )
        .group_by(AuditEvent.resource_id)
    )
    found = {uuid.UUID(resource_id): int(newest) for resource_id, newest in rows.all()}
    return {incident_id: found.get(incident_id, 0) for incident_id in incident_ids}


async def next_post_due(session: AsyncSession, now: datetime) -> datetime | None:
    """When a post waiting to be retried is next due."""
    return await session.scalar(
        sa.select(sa.func.min(IncidentPost.next_attempt_at))
        .join(Incident, Incident.id == IncidentPost.incident_id)
        .where(
            Incident.updated_at > now - HORIZON,
            IncidentPost.attempts > 0,
            sa.or_(
                IncidentPost.synced_version.is_(None),
                IncidentPost.synced_version < Incident.updated_at,
            ),
        )
    )
