"""Calendar feeds: managing secret iCalendar URLs, and serving them.

``GET /calendars/{token}.ics`` takes no other credentials: calendar apps fetch it on
their own, and the token in the URL is the credential (see ``actions/oncall/calendar_feeds.py``).
"""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Request, Response

from tocsin.actions.oncall import calendar_feeds
from tocsin.api.schemas import problems
from tocsin.api.schemas.oncall import (
    CalendarFeedCreate,
    CalendarFeedCreated,
    CalendarFeedRead,
)
from tocsin.http.context import context_of
from tocsin.http.deps import CurrentActor, DbSession, Now

router = APIRouter(
    prefix="/api/v1/calendar-feeds", tags=["calendar feeds"], responses=problems.COMMON
)
public = APIRouter(tags=["calendar feeds"])


@router.get("", response_model=list[CalendarFeedRead])
async def list_feeds(session: DbSession, actor: CurrentActor) -> list[CalendarFeedRead]:
    """Your own feeds."""
    feeds = await calendar_feeds.list_feeds(session, actor=actor)
    return [CalendarFeedRead.model_validate(feed) for feed in feeds]


@router.post("", status_code=201, response_model=CalendarFeedCreated, responses=problems.NOT_FOUND)
async def create_feed(
    body: CalendarFeedCreate, request: Request, session: DbSession, actor: CurrentActor, now: Now
) -> CalendarFeedCreated:
    issued = await calendar_feeds.create_feed(
        session, actor=actor, schedule_id=body.schedule_id, now=now
    )
    base = context_of(request).settings.public_url or str(request.base_url)
    return CalendarFeedCreated(
        **CalendarFeedRead.model_validate(issued.feed).model_dump(),
        url=f"{base.rstrip('/')}/calendars/{issued.token}.ics",
    )


@router.delete("/{feed_id}", status_code=204, responses=problems.NOT_FOUND)
async def revoke_feed(
    feed_id: uuid.UUID, session: DbSession, actor: CurrentActor, now: Now
) -> Response:
    """Revoking is immediate and final; revoking twice is harmless."""
    await calendar_feeds.revoke_feed(session, actor=actor, feed_id=feed_id, now=now)
    return Response(status_code=204)


@public.get(
    "/calendars/{token}.ics",
    response_class=Response,
    responses={200: {"content": {"text/calendar": {}}}, **problems.NOT_FOUND},
)
async def serve_feed(token: str, session: DbSession, now: Now) -> Response:
    body = await calendar_feeds.render_feed(session, token=token, now=now)
    return Response(
        body,
        media_type="text/calendar; charset=utf-8",
        headers={"Cache-Control": "private, max-age=300"},
    )
