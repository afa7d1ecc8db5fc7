"""Calendar feeds: secret iCalendar URLs with upcoming shifts, revocable at any time.

A person creates a feed of their own shifts on every schedule, or of one schedule's
shifts. The URL carries a random token that is shown once and stored as SHA-256 only
(``security.tokens``); whoever has the URL can read the feed, which is what calendar apps
need, so revoking it is immediate and final. A feed stops working too when its owner is
deactivated, or loses sight of schedules.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from tocsin.actions import audit
from tocsin.actions.actors import Actor
from tocsin.actions.oncall import on_call
from tocsin.actions.principals import user_principal
from tocsin.db.models.schedules import CalendarFeed, Schedule
from tocsin.db.models.users import User
from tocsin.domain.access import Action, authorize, is_allowed
from tocsin.domain.schedules import calendars, timeline
from tocsin.errors import NotFound, PermissionDenied
from tocsin.security import tokens

FEED_PREFIX = "tcf_"
# What a feed shows: a week back (so a shift just ended is still there) and 60 days ahead.
PAST = timedelta(days=7)
AHEAD = timedelta(days=60)


@dataclass(frozen=True)
class IssuedFeed:
    feed: CalendarFeed
    token: str


async def create_feed(
    session: AsyncSession, *, actor: Actor, schedule_id: uuid.UUID | None, now: datetime
) -> IssuedFeed:
    owner = actor.user_id
    if owner is None:
        raise PermissionDenied("calendar feeds belong to people; an API key cannot own one")
    authorize(actor.principal, Action.READ_SCHEDULES)
    schedule = None
    if schedule_id is not None:
        schedule = await session.get(Schedule, schedule_id)
        if schedule is None:
            raise NotFound("schedule", schedule_id)
    token = tokens.new_token(FEED_PREFIX)
    feed = CalendarFeed(
        id=uuid.uuid4(),
        token_hash=tokens.digest(token),
        display_prefix=token[: len(FEED_PREFIX) + 6],
        owner_user_id=owner,
        schedule_id=schedule_id,
        created_at=now,
    )
    session.add(feed)
    await session.flush()
    await audit.record(
        session,
        actor=actor,
        action="calendar_feed.created",
        resource_type="calendar_feed",
        resource_id=feed.id,
        team_id=schedule.team_id if schedule else None,
        now=now,
        details={"schedule_id": str(schedule_id) if schedule_id else None},
    )
    return IssuedFeed(feed, token)


async def revoke_feed(
    session: AsyncSession, *, actor: Actor, feed_id: uuid.UUID, now: datetime
) -> CalendarFeed:
    feed = await session.get(CalendarFeed, feed_id, with_for_update=True)
    if feed is None:
        raise NotFound("calendar feed", feed_id)
    if feed.owner_user_id != actor.user_id:
        authorize(actor.principal, Action.MANAGE_USERS)
    if feed.revoked_at is None:
        feed.revoked_at = now
        await session.flush()
        await audit.record(
            session,
            actor=actor,
            action="calendar_feed.revoked",
            resource_type="calendar_feed",
            resource_id=feed.id,
            now=now,
        )
    return feed


async def list_feeds(session: AsyncSession, *, actor: Actor) -> list[CalendarFeed]:
    """The actor's own feeds, newest first."""
    if actor.user_id is None:
        return []
    return list(
        (
            await session.scalars(
                sa.select(CalendarFeed)
                .where(CalendarFeed.owner_user_id == actor.user_id)
                .order_by(CalendarFeed.created_at.desc(), CalendarFeed.id)
            )
        ).all()
    )


async def render_feed(session: AsyncSession, *, token: str, now: datetime) -> bytes:
    """The feed for a presented token; ``NotFound`` for unknown, revoked or orphaned ones
    (all look the same, so a URL reveals nothing about why it stopped working)."""
    feed = await session.scalar(
        sa.select(CalendarFeed).where(CalendarFeed.token_hash == tokens.digest(token))
    )
    owner = None if feed is None else await session.get(User, feed.owner_user_id)
    if feed is None or feed.revoked_at is not None or owner is None or not owner.is_active:
        raise NotFound("calendar feed", "at this URL")
    if not is_allowed(await user_principal(session, owner), Action.READ_SCHEDULES):
        raise NotFound("calendar feed", "at this URL")
    since, until = now - PAST, now + AHEAD
    if feed.schedule_id is not None:
        loaded = await on_call.load(
            session, feed.schedule_id, overrides_since=since, overrides_until=until
        )
        name = loaded.schedule.name
        segments = timeline.render(loaded.rules(), since, until)
        names = await _names(session, {segment.user_id for segment in segments})
        events = [
            calendars.CalendarEvent(
                key=f"{feed.id}:{segment.user_id}:{segment.start.isoformat()}",
                start=segment.start,
                end=segment.end,
                summary=f"On call: {names.get(segment.user_id, 'someone')}",
                description=f"{name} schedule",
            )
            for segment in segments
            if segment.user_id is not None
        ]
    else:
        name = f"On call: {owner.name}"
        events = []
        schedules = await on_call.schedules_of_user(session, owner.id)
        for loaded in await on_call.load_many(session, schedules, since, until):
            events.extend(
                calendars.CalendarEvent(
                    key=f"{feed.id}:{loaded.schedule.id}:{segment.start.isoformat()}",
                    start=segment.start,
                    end=segment.end,
                    summary=f"On call: {loaded.schedule.name}",
                    description=f"{loaded.schedule.name} schedule",
                )
                for segment in timeline.render(loaded.rules(), since, until)
                if segment.user_id == owner.id
            )
    return calendars.feed(name, sorted(events, key=lambda event: event.start), now=now)


async def _names(
    session: AsyncSession, user_ids: set[uuid.UUID | None]
) -> dict[uuid.UUID | None, str]:
    rows = await session.execute(sa.select(User.id, User.name).where(User.id.in_(user_ids)))
    return {user_id: name for user_id, name in rows}
