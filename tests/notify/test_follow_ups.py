"""The follow-up lane: posts in a service's shared places and sent chat pages are brought
in step with their incident (``engine/follow_ups.py``).

The channel here records what the lane asks of it and answers as scripted; the channels
themselves (Slack, Teams, push) are tested against their vendors' fakes in their own
packages' tests. Strict: every call is claimed by an assertion, and a call no test
expects (a second post of one incident, a refresh with nothing changed) fails it.
"""

from __future__ import annotations

import uuid
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import timedelta

import httpx
import pytest
import sqlalchemy as sa
from fastapi import FastAPI

from tests.notify.conftest import Oncall, sending_engine
from tests.scenarios.conftest import World, send, trigger
from tocsin.actions.actors import system_actor
from tocsin.actions.services import post_targets
from tocsin.clock import FrozenClock
from tocsin.config import Settings
from tocsin.db.models.follow_ups import IncidentPost
from tocsin.db.models.follow_ups import PostTarget as PostTargetRow
from tocsin.db.models.services import Service
from tocsin.db.session import Database
from tocsin.domain.channels import ChannelKind
from tocsin.domain.deliveries import ErrorCode, Failed, Outcome, Sent
from tocsin.domain.notices import Notice
from tocsin.engine.loop import Engine
from tocsin.notify import notifier as notify
from tocsin.notify.channels.base import IncidentUpdate, PostTarget, SentPage
from tocsin.security.encryption import Cipher


@dataclass
class Call:
    what: str  # "post", "update", "refresh", "send"
    address: str
    reference: str | None
    update: IncidentUpdate


@dataclass
class RecordingProvider:
    name: str = "recording"
    sent: list[Notice] = field(default_factory=list)

    async def send(self, message: Notice, *, time_limit: float) -> Outcome:
        self.sent.append(message)
        return Sent(provider_message_id=f"D1:{len(self.sent)}")


class RecordingChatChannel:
    """A chat channel as the lane sees one: it sends pages, refreshes them, and posts."""

    kind = ChannelKind.SLACK
    intrusive = False
    supports_interactivity = True
    resend_after_unknown = False

    def __init__(self) -> None:
        self.provider = RecordingProvider()
        self.calls: list[Call] = []
        self.script: deque[Outcome] = deque()

    @property
    def providers(self) -> Sequence[RecordingProvider]:
        return [self.provider]

    def render(self, notice: Notice) -> Notice:
        return notice

    def _answer(self, default: str) -> Outcome:
        return self.script.popleft() if self.script else Sent(provider_message_id=default)

    async def post(
        self, target: PostTarget, update: IncidentUpdate, *, time_limit: float
    ) -> Outcome:
        self.calls.append(Call("post", target.address, None, update))
        return self._answer(f"{target.address}:100.{len(self.calls)}")

    async def update(
        self, target: PostTarget, reference: str, update: IncidentUpdate, *, time_limit: float
    ) -> Outcome:
        self.calls.append(Call("update", target.address, reference, update))
        return self._answer(reference)

    async def refresh(
        self, page: SentPage, update: IncidentUpdate, *, time_limit: float
    ) -> Outcome:
        self.calls.append(Call("refresh", page.address, page.provider_message_id, update))
        return self._answer(page.provider_message_id)

    def take(self) -> list[Call]:
        taken, self.calls = self.calls, []
        return taken


@pytest.fixture
def chat() -> RecordingChatChannel:
    return RecordingChatChannel()


@pytest.fixture
def chat_engine(
    app: FastAPI,
    settings: Settings,
    database: Database,
    clock: FrozenClock,
    chat: RecordingChatChannel,
) -> Engine:
    outbox = notify.build(settings, database, clock)
    notifier = notify.build(
        settings,
        database,
        clock,
        channels={ChannelKind.EMAIL: outbox.channels[ChannelKind.EMAIL], ChannelKind.SLACK: chat},
    )
    return sending_engine(app, database, clock, notifier)


async def _service_id(database: Database) -> uuid.UUID:
    async with database.transaction() as session:
        found = await session.scalar(sa.select(Service.id).where(Service.name == "payments-api"))
    assert found is not None
    return found


async def _add_place(database: Database, clock: FrozenClock, address: str) -> uuid.UUID:
    async with database.transaction() as session:
        target = await post_targets.add_target(
            session,
            actor=system_actor("test"),
            cipher=Cipher(b"test-secret-key-not-for-production"),
            owner=post_targets.Owner(service_id=await _service_id(database)),
            kind=ChannelKind.SLACK,
            address=address,
            label="#payments-oncall",
            now=clock.now(),
        )
        return target.id


async def test_an_incident_is_posted_once_and_the_post_follows_it(
    client: httpx.AsyncClient,
    oncall: Oncall,
    chat_engine: Engine,
    chat: RecordingChatChannel,
    database: Database,
    clock: FrozenClock,
    world: World,
) -> None:
    await _add_place(database, clock, "C0PAYMENTS")
    await send(client, oncall.key, trigger("db-1/disk"))
    await chat_engine.tick()

    [posted] = chat.take()
    assert (posted.what, posted.address) == ("post", "C0PAYMENTS")
    assert posted.update.incident.status == "triggered"
    assert posted.update.incident.title == "Disk full on db-1"
    # Nothing changed: nothing is posted again however often the lane runs.
    clock.advance(seconds=30)
    await chat_engine.tick()
    assert chat.take() == []

    bob = await oncall.seed.as_user(oncall.bob)
    incident = await world.incident()
    acked = await bob.post(f"/api/v1/incidents/{incident.id}/acknowledge")
    assert acked.status_code == 200, acked.text
    await chat_engine.tick()

    [updated] = chat.take()
    assert (updated.what, updated.reference) == ("update", "C0PAYMENTS:100.1")
    assert updated.update.incident.status == "acknowledged"
    assert updated.update.acknowledged_by == "bob@example.com"
    assert [line.text for line in updated.update.timeline] == [
        "Acknowledged by bob@example.com via api"
    ]

    resolved = await bob.post(f"/api/v1/incidents/{incident.id}/resolve")
    assert resolved.status_code == 200, resolved.text
    await chat_engine.tick()
    [closing] = chat.take()
    assert closing.update.incident.status == "resolved"
    # Only what happened since the last update is threaded.
    assert [line.text for line in closing.update.timeline] == [
        "Resolved by bob@example.com via api"
    ]


async def test_a_place_named_later_gets_only_the_incidents_made_after_it(
    client: httpx.AsyncClient,
    oncall: Oncall,
    chat_engine: Engine,
    chat: RecordingChatChannel,
    database: Database,
    clock: FrozenClock,
) -> None:
    await send(client, oncall.key, trigger("db-1/disk"))
    await chat_engine.tick()
    clock.advance(minutes=1)
    await _add_place(database, clock, "C0LATE")
    await send(client, oncall.key, trigger("db-2/disk", title="Disk full on db-2"))
    await chat_engine.tick()
    [posted] = chat.take()
    assert posted.update.incident.title == "Disk full on db-2"


async def test_a_throttled_post_waits_for_retry_after_and_a_gone_place_is_marked_broken(
    client: httpx.AsyncClient,
    oncall: Oncall,
    chat_engine: Engine,
    chat: RecordingChatChannel,
    database: Database,
    clock: FrozenClock,
) -> None:
    target_id = await _add_place(database, clock, "C0THROTTLED")
    chat.script.append(
        Failed(
            ErrorCode.RATE_LIMITED,
            "ratelimited",
            permanent=False,
            retry_after=timedelta(seconds=45),
        )
    )
    await send(client, oncall.key, trigger("db-1/disk"))
    await chat_engine.tick()
    assert [call.what for call in chat.take()] == ["post"]

    clock.advance(seconds=44)
    await chat_engine.tick()
    assert chat.take() == []  # not before Slack said

    clock.advance(seconds=1)
    chat.script.append(
        Failed(ErrorCode.REVOKED, "channel_not_found", permanent=True, provider_fault=False)
    )
    await chat_engine.tick()
    assert [call.what for call in chat.take()] == ["post"]
    async with database.transaction() as session:
        target = await session.get(PostTargetRow, target_id)
        assert target is not None
        assert target.broken_at == clock.now()
        assert target.broken_reason == "channel_not_found"
        post = await session.scalar(sa.select(IncidentPost))
        assert post is not None
        assert post.reference is None

    # A broken place is not posted to again, even for a new incident.
    clock.advance(hours=1)
    await send(client, oncall.key, trigger("db-2/disk"))
    await chat_engine.tick()
    assert [call.what for call in chat.take()] == []


async def test_a_sent_chat_page_is_refreshed_when_its_incident_changes(
    client: httpx.AsyncClient,
    oncall: Oncall,
    chat_engine: Engine,
    chat: RecordingChatChannel,
    database: Database,
    clock: FrozenClock,
    world: World,
) -> None:
    # Alice has a Slack method (her default rules already page every kind at once).
    await oncall.seed.verified_method(oncall.alice, ChannelKind.SLACK, "U0ALICE", "Slack")
    await send(client, oncall.key, trigger("db-1/disk"))
    await chat_engine.tick()
    assert len(chat.provider.sent) == 1
    assert chat.take() == []  # sent, and nothing to refresh yet

    bob = await oncall.seed.as_user(oncall.bob)
    incident = await world.incident()
    acked = await bob.post(f"/api/v1/incidents/{incident.id}/acknowledge")
    assert acked.status_code == 200, acked.text
    await chat_engine.tick()
    [refreshed] = chat.take()
    assert (refreshed.what, refreshed.address, refreshed.reference) == (
        "refresh",
        "U0ALICE",
        "D1:1",
    )
    assert refreshed.update.acknowledged_by == "bob@example.com"
    clock.advance(seconds=10)
    await chat_engine.tick()
    assert chat.take() == []  # shown once

    # A failed refresh is tried again on a later tick.
    chat.script.append(Failed(ErrorCode.PROVIDER_ERROR, "500", permanent=False))
    resolved = await bob.post(f"/api/v1/incidents/{incident.id}/resolve")
    assert resolved.status_code == 200, resolved.text
    await chat_engine.tick()
    assert [call.what for call in chat.take()] == ["refresh"]
    await chat_engine.tick()
    [again] = chat.take()
    assert again.update.incident.status == "resolved"


async def test_only_a_channel_that_posts_can_be_named_as_a_place(
    client: httpx.AsyncClient, oncall: Oncall, database: Database
) -> None:
    admin = await oncall.seed.as_user(oncall.alice)
    service_id = await _service_id(database)
    refused = await admin.post(
        f"/api/v1/services/{service_id}/post-targets",
        json={"kind": "email", "address": "team@example.com"},
    )
    assert refused.status_code == 422, refused.text
    assert refused.headers["content-type"] == "application/problem+json"
    assert "kind" in refused.text
    listed = await admin.get(f"/api/v1/services/{service_id}/post-targets")
    assert listed.status_code == 200
    assert listed.json() == []
    missing = await admin.get(f"/api/v1/services/{uuid.uuid4()}/post-targets")
    assert missing.status_code == 404
