"""Sign in with Slack: "Connect Slack" on the notification settings page links the Slack
account Slack says signed in (``openid.connect.token`` then ``userInfo`` on the strict
fake), once per state, for the person who started it, in a workspace tocsin is in."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import httpx
import sqlalchemy as sa

from tests.fakes import slack as fake
from tests.fakes.slack import FakeSlack
from tests.notify.conftest import Oncall
from tests.notify.slack.conftest import install
from tocsin.clock import FrozenClock
from tocsin.db.models.audit import AuditEvent
from tocsin.db.models.contact_methods import ContactMethod
from tocsin.db.session import Database
from tocsin.domain.channels import ChannelKind

REDIRECT = "https://tocsin.test/slack/signin/callback"


async def _start(person: httpx.AsyncClient) -> str:
    """Press Connect Slack; the state Slack is sent with."""
    settings_page = await person.get("/profile/notifications")
    assert 'href="/slack/signin"' in settings_page.text
    started = await person.get("/slack/signin")
    assert started.status_code == 303
    location = urlsplit(started.headers["location"])
    assert (location.netloc, location.path) == ("slack.com", "/openid/connect/authorize")
    query = parse_qs(location.query)
    assert query["client_id"] == [fake.CLIENT_ID]
    assert query["response_type"] == ["code"]
    assert query["redirect_uri"] == [REDIRECT]
    assert query["scope"] == ["openid,profile"]
    return query["state"][0]


async def _slack_methods(database: Database) -> list[ContactMethod]:
    async with database.transaction() as session:
        rows = await session.scalars(
            sa.select(ContactMethod).where(ContactMethod.kind == ChannelKind.SLACK)
        )
        return list(rows.all())


async def test_connect_slack_links_the_account_slack_says_signed_in(
    oncall: Oncall, slack: FakeSlack, clock: FrozenClock, database: Database
) -> None:
    await install(database, clock)
    alice = await oncall.seed.as_user(oncall.alice)
    state = await _start(alice)
    slack.sign_in("c0de-alice", team_id=fake.TEAM_ID, user_id="U0ALICE")

    linked = await alice.get(f"/slack/signin/callback?code=c0de-alice&state={state}")

    assert linked.status_code == 200, linked.text
    assert "Slack is linked" in linked.text
    exchange = slack.expect("openid.connect.token", code="c0de-alice")
    assert exchange.arguments["redirect_uri"] == REDIRECT
    asked = slack.expect("openid.connect.userInfo")
    assert asked.token == "xoxp-signin-1"  # the person's token, not the bot's
    (method,) = await _slack_methods(database)
    assert method.user_id == oncall.alice.id
    assert method.address == f"{fake.TEAM_ID}:U0ALICE"
    assert method.verified_at == clock.now()
    assert method.label == "Slack (Tocsin Test)"
    async with database.transaction() as session:
        events = (
            await session.scalars(
                sa.select(AuditEvent.action).where(AuditEvent.action.like("contact_method.%"))
            )
        ).all()
    assert events == ["contact_method.slack_linked"]

    # The state is used up: the same redirect again links nothing and asks Slack nothing.
    again = await alice.get(f"/slack/signin/callback?code=c0de-alice&state={state}")
    assert again.status_code == 400
    assert "already used" in again.text


async def test_a_state_is_the_starters_alone_and_expires(
    oncall: Oncall, slack: FakeSlack, clock: FrozenClock, database: Database
) -> None:
    await install(database, clock)
    alice = await oncall.seed.as_user(oncall.alice)
    bob = await oncall.seed.as_user(oncall.bob)
    state = await _start(alice)
    slack.sign_in("c0de-alice", team_id=fake.TEAM_ID, user_id="U0ALICE")

    stolen = await bob.get(f"/slack/signin/callback?code=c0de-alice&state={state}")
    assert stolen.status_code == 400  # Alice's state in Bob's session
    used_up = await alice.get(f"/slack/signin/callback?code=c0de-alice&state={state}")
    assert used_up.status_code == 400  # any attempt uses a state up

    late = await _start(alice)
    clock.advance(minutes=11)
    expired = await alice.get(f"/slack/signin/callback?code=c0de-alice&state={late}")
    assert expired.status_code == 400

    # An install state is no sign-in state (nor the other way round).
    admin = await oncall.seed.user("Ada", email="ada@example.com", admin=True)
    ada = await oncall.seed.as_user(admin)
    installing = await ada.get("/slack/install")
    install_state = parse_qs(urlsplit(installing.headers["location"]).query)["state"][0]
    crossed = await ada.get(f"/slack/signin/callback?code=c0de-alice&state={install_state}")
    assert crossed.status_code == 400

    no_state = await alice.get("/slack/signin/callback?code=c0de-alice")
    assert no_state.status_code == 400
    cancelled = await alice.get(f"/slack/signin/callback?error=access_denied&state={late}")
    assert cancelled.status_code == 400
    assert await _slack_methods(database) == []  # and the strict fake saw no exchange


async def test_a_workspace_tocsin_is_not_installed_in_is_refused_clearly(
    oncall: Oncall, slack: FakeSlack, clock: FrozenClock, database: Database
) -> None:
    await install(database, clock)
    alice = await oncall.seed.as_user(oncall.alice)
    state = await _start(alice)
    slack.sign_in("c0de-other", team_id="T0ELSEWHERE", user_id="U0ALICE")

    refused = await alice.get(f"/slack/signin/callback?code=c0de-other&state={state}")

    assert refused.status_code == 409
    assert "tocsin is not installed in the Slack workspace Other" in refused.text
    assert "Ask a team admin to add tocsin to Slack" in refused.text
    slack.expect("openid.connect.token", code="c0de-other")
    slack.expect("openid.connect.userInfo")
    assert await _slack_methods(database) == []


async def test_a_code_slack_does_not_know_links_nothing(
    oncall: Oncall, slack: FakeSlack, clock: FrozenClock, database: Database
) -> None:
    await install(database, clock)
    alice = await oncall.seed.as_user(oncall.alice)
    state = await _start(alice)

    refused = await alice.get(f"/slack/signin/callback?code=forged&state={state}")

    assert refused.status_code == 502
    assert "Slack refused the sign-in: invalid_code" in refused.text
    slack.expect("openid.connect.token", code="forged")
    assert await _slack_methods(database) == []
