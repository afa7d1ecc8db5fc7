"""Email pages end to end: alert → incident → page → mail → magic link → acknowledged."""

from __future__ import annotations

import re

import httpx

from tests.fakes.smtp import FakeSmtp
from tests.notify.conftest import Deliveries, Oncall
from tests.scenarios.conftest import World, send, trigger
from tocsin.clock import FrozenClock
from tocsin.engine.loop import Engine
from tocsin.http.csrf import SESSION_COOKIE

LINK = re.compile(r"https://tocsin\.test/magic/[A-Za-z0-9_-]+")


async def test_a_page_is_mailed_and_the_link_acknowledges_as_the_recipient(
    client: httpx.AsyncClient,
    oncall: Oncall,
    engine: Engine,
    smtp: FakeSmtp,
    world: World,
    deliveries: Deliveries,
    clock: FrozenClock,
) -> None:
    accepted = await send(client, oncall.key, trigger("db-1/disk", description="<b>disk</b> 99%"))
    assert accepted.status_code == 202, accepted.text
    await engine.tick()
    mail = smtp.expect(to="alice@example.com", subject="[CRITICAL] payments-api: Disk full on db-1")
    assert not mail.subject.startswith("[ESCALATION")
    assert "&lt;b&gt;disk&lt;/b&gt;" in mail.html
    assert "CET" in mail.text  # the recipient's time zone
    acknowledge, _resolve = LINK.findall(mail.text)[:2]
    path = acknowledge.removeprefix("https://tocsin.test")

    shown = await client.get(path)
    assert shown.status_code == 200
    assert "Acknowledge" in shown.text
    assert shown.headers["referrer-policy"] == "no-referrer"
    assert (await world.incident()).status.value == "triggered"

    done = await client.post(path)
    assert done.status_code == 200, done.text
    incident = await world.incident()
    assert incident.status.value == "acknowledged"
    assert incident.acknowledged_by == "alice@example.com"
    assert ("incident.acknowledged", {"via": "email"}) in await world.timeline(incident)

    again = await client.post(path)
    assert "already used" in again.text
    assert "alice@example.com" in again.text

    # Nothing more is sent: not the SMS tier, not level 2, not a retry.
    clock.advance(minutes=30)
    await engine.tick()
    assert await deliveries.statuses() == [("page", "email", "sent")]


async def test_a_link_refuses_whoever_else_is_signed_in_on_the_page_and_the_button(
    client: httpx.AsyncClient,
    oncall: Oncall,
    engine: Engine,
    smtp: FakeSmtp,
    world: World,
) -> None:
    """Alice's link opened in Bob's signed-in browser: the page and the button both refuse
    Bob (the button used to acknowledge as Alice), offer him the incident page, and leave
    the link usable for Alice."""
    accepted = await send(client, oncall.key, trigger("db-1/disk"))
    assert accepted.status_code == 202, accepted.text
    await engine.tick()
    mail = smtp.expect(to="alice@example.com", subject="[CRITICAL] payments-api: Disk full on db-1")
    acknowledge = LINK.findall(mail.text)[0].removeprefix("https://tocsin.test")
    incident = await world.incident()

    bob = httpx.AsyncClient(transport=client._transport, base_url=str(client.base_url))
    bob.cookies.set(SESSION_COOKIE, await oncall.seed.session_token(oncall.bob))
    async with bob:
        for answer in (await bob.get(acknowledge), await bob.post(acknowledge)):
            assert answer.status_code == 403, answer.text
            assert "This link is not for you" in answer.text
            assert f'href="/incidents/{incident.id}"' in answer.text
    assert (await world.incident()).status.value == "triggered"

    done = await client.post(acknowledge)
    assert done.status_code == 200, done.text
    assert (await world.incident()).acknowledged_by == "alice@example.com"


async def test_a_link_to_an_incident_resolved_meanwhile_offers_nothing_and_says_by_whom(
    client: httpx.AsyncClient,
    oncall: Oncall,
    engine: Engine,
    smtp: FakeSmtp,
    world: World,
) -> None:
    await send(client, oncall.key, trigger("db-1/disk"))
    await engine.tick()
    mail = smtp.expect(to="alice@example.com", subject="[CRITICAL] payments-api: Disk full on db-1")
    acknowledge, resolve = (
        link.removeprefix("https://tocsin.test") for link in LINK.findall(mail.text)[:2]
    )
    assert (await client.post(resolve)).status_code == 200

    shown = await client.get(acknowledge)
    assert "Nothing to do: incident #1 is already resolved" in shown.text
    assert "<button" not in shown.text.split("<main>")[1]
    incident = await world.incident()
    assert f'href="/incidents/{incident.id}"' in shown.text
    lost = await client.post(acknowledge)
    assert lost.status_code == 409
    assert "Incident #1 is already resolved by alice@example.com, Mon 5 Jan 2026" in lost.text
    assert "T0" not in lost.text.split("<main>")[1]  # no raw ISO timestamp
