"""Follow-up module: what chat and push channels showed is brought in step with incidents.

A Slack message that still says "Triggered" after someone acknowledged invites a second
person to get up for nothing. So when an incident changes (its ``updated_at`` moves), this
lane updates every sent page of a channel that can change one (``RefreshesPages``) and
every post in a shared place (``PostsIncidents``), posting an incident there first if it is
new. The database side, claims and leases included, is ``actions/notify/follow_ups.py``.

Calls happen outside any transaction, with the same time limit as sends; a failure is
recorded and retried by the database side's rules, never raised into the loop. The lane
exists only when a configured channel implements one of the protocols, so an installation
with email alone pays nothing for it. Incident transitions and new incidents wake it by
NOTIFY (``follow_ups``), so an acknowledgement shows in Slack within a tick.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Coroutine, Mapping
from datetime import datetime, timedelta
from typing import Any

import structlog

from tocsin.actions.notify import follow_ups as store
from tocsin.db.session import Database
from tocsin.domain.channels import ChannelKind
from tocsin.domain.deliveries import ErrorCode, Failed, Outcome, Sent, Unknown
from tocsin.engine.modules import TickReport
from tocsin.notify import wording
from tocsin.notify.channels.base import (
    IncidentUpdate,
    PostsIncidents,
    PostTarget,
    RefreshesPages,
    SentPage,
    TimelineLine,
)
from tocsin.notify.notifier import Notifier

log = structlog.get_logger(__name__)

# A post is leased for this long while its channel is called: longer than any call may
# take (the notifier's time limit plus the guard in ``_call``), so a live engine never
# loses a lease it is using.
LEASE = timedelta(seconds=60)
# Calls of one tick run this many at a time: a burst of changes is not a burst of
# requests that a chat vendor would answer with 429.
CONCURRENCY = 8
# A tick looks at incidents changed since the previous one, less this margin: more than
# any transaction takes between taking its time and committing.
MARGIN = timedelta(seconds=10)
FULL_EVERY = timedelta(minutes=1)


def posters(notifier: Notifier) -> dict[ChannelKind, PostsIncidents]:
    return {k: c for k, c in notifier.channels.items() if isinstance(c, PostsIncidents)}


def refreshers(notifier: Notifier) -> dict[ChannelKind, RefreshesPages]:
    return {k: c for k, c in notifier.channels.items() if isinstance(c, RefreshesPages)}


class FollowUpModule:
    name = "follow_ups"

    def __init__(self, notifier: Notifier) -> None:
        self.notifier = notifier
        self.posters = posters(notifier)
        self.refreshers = refreshers(notifier)
        self._slots = asyncio.Semaphore(CONCURRENCY)
        # When this lane last looked at every change, and last looked back a whole day.
        self._looked_at: datetime | None = None
        self._full_at: datetime | None = None

    def _since(self, now: datetime) -> datetime:
        """Changes since the last look, less a margin for transactions that committed
        after it with an earlier ``updated_at``; the whole horizon after a start and
        every ``FULL_EVERY`` (a refresh put back after a failure is found then)."""
        if self._looked_at is None or self._full_at is None or now - self._full_at >= FULL_EVERY:
            self._full_at = now
            return now - store.HORIZON
        return self._looked_at - MARGIN

    async def tick(self, database: Database, now: datetime, *, batch_size: int) -> TickReport:
        report = TickReport(self.name)
        since = self._since(now)
        async with database.transaction() as session:
            await store.open_posts(session, kinds=self.posters, since=since, now=now)
            posts = await store.claim_posts(
                session, lease=LEASE, since=since, now=now, limit=batch_size
            )
            refreshes = await store.claim_refreshes(
                session, kinds=self.refreshers, since=since, now=now, limit=batch_size
            )
            views = await store.incident_views(
                session,
                {p.incident_id for p in posts} | {r.incident_id for r in refreshes},
            )
            # Thread lines since each post last showed its incident; a first post shows the
            # incident as it is, and its thread starts after the newest event.
            since_event: dict[uuid.UUID, int] = {}
            for post in posts:
                if post.reference is not None:
                    earliest = since_event.get(post.incident_id, post.synced_event_id)
                    since_event[post.incident_id] = min(earliest, post.synced_event_id)
            threads = await store.timelines_after(session, since_event)
            newest = await store.last_event_ids(
                session, {p.incident_id for p in posts if p.reference is None}
            )
        report.claimed = len(posts) + len(refreshes)
        report.more = len(posts) >= batch_size or len(refreshes) >= batch_size
        if not report.more:
            self._looked_at = now
        outcomes = await asyncio.gather(
            *[self._post(post, views, store.thread_of(post, threads)) for post in posts],
            *[self._refresh(refresh, views) for refresh in refreshes],
        )
        post_outcomes = outcomes[: len(posts)]
        refresh_outcomes = outcomes[len(posts) :]
        async with database.transaction() as session:
            for post, outcome in zip(posts, post_outcomes, strict=True):
                view = views.get(post.incident_id)
                if isinstance(outcome, Sent) and view is not None:
                    shown = store.thread_of(post, threads)
                    event_id = shown[-1].id if shown else newest.get(post.incident_id, 0)
                    await store.posted(
                        session,
                        post,
                        reference=outcome.provider_message_id,
                        version=view.version,
                        event_id=event_id,
                        now=now,
                    )
                    report.applied += 1
                else:
                    detail, permanent, retry_after = _failure(outcome)
                    await store.post_failed(
                        session,
                        post,
                        detail=detail,
                        permanent=permanent,
                        retry_after=retry_after,
                        now=now,
                    )
                    report.failed += 1
            for refresh, outcome in zip(refreshes, refresh_outcomes, strict=True):
                if isinstance(outcome, Sent):
                    report.applied += 1
                else:
                    await store.refresh_failed(session, refresh)
                    report.failed += 1
        return report

    async def next_due(self, database: Database) -> datetime | None:
        async with database.transaction() as session:
            return await store.next_post_due(session, self.notifier.clock.now())

    async def _post(
        self,
        post: store.ClaimedPost,
        views: Mapping[uuid.UUID, store.IncidentView],
        timeline: list[store.TimelineEvent],
    ) -> Outcome:
        view = views.get(post.incident_id)
        channel = self.posters.get(post.kind)
        if view is None or channel is None or self.notifier.cipher is None:
            return Failed(
                ErrorCode.PROVIDER_ERROR, "the incident or its channel is gone", permanent=False
            )
        target = PostTarget(
            id=post.target_id,
            kind=post.kind,
            address=self.notifier.cipher.decrypt(post.address_encrypted),
            details=post.target_details,
        )
        update = self._update(view, timeline)
        if post.reference is None:
            return await self._call(channel.post(target, update, time_limit=self._limit))
        return await self._call(
            channel.update(target, post.reference, update, time_limit=self._limit)
        )

    async def _refresh(
        self, refresh: store.ClaimedRefresh, views: Mapping[uuid.UUID, store.IncidentView]
    ) -> Outcome:
        view = views.get(refresh.incident_id)
        channel = self.refreshers.get(refresh.kind)
        if view is None or channel is None:
            return Failed(
                ErrorCode.PROVIDER_ERROR, "the incident or its channel is gone", permanent=False
            )
        page = SentPage(
            delivery_id=refresh.delivery_id,
            user_id=refresh.user_id,
            address=refresh.address,
            details=refresh.details,
            provider=refresh.provider,
            provider_message_id=refresh.provider_message_id,
            method_details=refresh.method_details,
        )
        return await self._call(
            channel.refresh(page, self._update(view, []), time_limit=self._limit)
        )

    def _update(
        self, view: store.IncidentView, timeline: list[store.TimelineEvent]
    ) -> IncidentUpdate:
        return IncidentUpdate(
            incident=view.row.facts(self.notifier.send.links.base_url, {}),
            version=view.version,
            level=view.level,
            acknowledged_by=view.acknowledged_by,
            resolved_by=view.resolved_by,
            timeline=tuple(
                TimelineLine(
                    at=event.at,
                    text=wording.timeline_line(event.action, event.actor, event.details),
                )
                for event in timeline
            ),
        )

    @property
    def _limit(self) -> float:
        return self.notifier.timeout

    async def _call(self, call: Coroutine[Any, Any, Outcome]) -> Outcome:
        async with self._slots:
            try:
                outcome: Outcome = await asyncio.wait_for(call, self._limit + 5)
            except TimeoutError:
                return Unknown(f"no answer within {self._limit:.0f} s")
            except Exception as error:
                # A channel must map its vendor's errors to outcomes; one that raises is a
                # bug, logged and retried like a failure rather than stopping the lane.
                log.exception("a follow-up call raised", error=str(error))
                return Failed(ErrorCode.PROVIDER_ERROR, f"{type(error).__name__}", permanent=False)
            return outcome


def _failure(outcome: Outcome) -> tuple[str, bool, timedelta | None]:
    """What ``post_failed`` records: the detail, whether the place itself is gone (a
    permanent failure of a post is about the place: a channel archived, a webhook
    deleted), and the vendor's Retry-After."""
    if isinstance(outcome, Failed):
        return outcome.detail, outcome.permanent, outcome.retry_after
    reason = outcome.reason if isinstance(outcome, Unknown) else "no post reference"
    return reason, False, None
