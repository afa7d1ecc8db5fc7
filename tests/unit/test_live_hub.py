"""The live fan-out: who is told of an incident change, and what a slow tab costs."""

from __future__ import annotations

import uuid

from tocsin.domain.access import Principal, PrincipalKind, Scope, TeamRole
from tocsin.web.live import changes
from tocsin.web.live.hub import RESYNC, Hub, Message
from tocsin.web.routes.live import encode

TEAM = uuid.uuid4()
OTHER_TEAM = uuid.uuid4()


def person(*teams: uuid.UUID) -> Principal:
    return Principal(
        PrincipalKind.USER,
        uuid.uuid4(),
        "someone",
        team_roles={team: TeamRole.RESPONDER for team in teams},
    )


def change(kind: str = "acknowledged", team: uuid.UUID = TEAM) -> changes.Change:
    return changes.Change(uuid.uuid4(), team, kind)


def test_a_payload_is_read_and_an_unreadable_one_is_ignored() -> None:
    incident, team = uuid.uuid4(), uuid.uuid4()
    assert changes.parse(f"{incident} {team} acknowledged") == changes.Change(
        incident, team, "acknowledged"
    )
    assert changes.parse("not-a-uuid x y") is None
    assert changes.parse(f"{incident} {team}") is None
    assert changes.parse("") is None


async def test_a_change_reaches_a_viewer_marked_mine_only_for_their_teams() -> None:
    hub = Hub()
    with hub.subscribe(person(TEAM)) as member, hub.subscribe(person(OTHER_TEAM)) as outsider:
        happened = change()
        hub.publish(happened)
        assert await member.next(0.1) == Message(happened.incident_id, "acknowledged", True)
        # Everyone signed in reads every incident; it just is not one of theirs.
        assert await outsider.next(0.1) == Message(happened.incident_id, "acknowledged", False)


async def test_nothing_reaches_a_viewer_who_may_not_read_incidents() -> None:
    hub = Hub()
    no_scope = Principal(
        PrincipalKind.API_KEY, uuid.uuid4(), "key", scopes=frozenset({Scope.USERS_READ})
    )
    nobody = Principal(PrincipalKind.ANONYMOUS, None, "anonymous")
    with hub.subscribe(no_scope) as key, hub.subscribe(nobody) as anonymous:
        hub.publish(change())
        assert await key.next(0.05) is None
        assert await anonymous.next(0.05) is None
        assert key.pending == anonymous.pending == 0


async def test_a_change_already_waiting_is_not_queued_twice() -> None:
    hub = Hub()
    with hub.subscribe(person(TEAM)) as viewer:
        happened = change("changed")
        for _ in range(100):
            hub.publish(happened)
        assert viewer.pending == 1
        assert not viewer.dropped


async def test_a_slow_viewer_is_dropped_and_the_others_still_hear() -> None:
    hub = Hub(queue_limit=4)
    with hub.subscribe(person(TEAM)) as slow, hub.subscribe(person(TEAM)) as reading:
        for _ in range(5):
            happened = change()
            hub.publish(happened)
            assert await reading.next(0.1) == Message(happened.incident_id, "acknowledged", True)
        assert slow.dropped
        # Dropped means let go: nothing held, and its stream ends at once.
        assert slow.pending == 0
        assert await slow.next(10) is None
        assert not reading.dropped
    assert len(hub) == 0


async def test_a_resync_reaches_everyone() -> None:
    hub = Hub()
    with hub.subscribe(person()) as viewer:
        hub.resync()
        assert await viewer.next(0.1) == RESYNC


def test_an_event_is_one_server_sent_event_with_no_incident_content() -> None:
    incident = uuid.uuid4()
    assert (
        encode(Message(incident, "timeline", False))
        == (
            f'event: incident\ndata: {{"incident": "{incident}", "kind": "timeline", '
            '"mine": false}\n\n'
        ).encode()
    )


async def test_a_stopping_server_ends_every_stream_and_opens_none() -> None:
    hub = Hub()
    with hub.subscribe(person(TEAM)) as open_before:
        hub.end_all()
        assert open_before.dropped
        assert await open_before.next(10) is None
        with hub.subscribe(person(TEAM)) as opened_after:
            assert opened_after.dropped
