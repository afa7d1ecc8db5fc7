"""The incident pages: the list, one incident, and every button on it, by form post."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass

import httpx
import pytest
from fastapi import FastAPI

from tests.builders import Seed
from tests.notify.conftest import sending_engine
from tests.web.support import browser, submit, text_of
from tocsin.actions.actors import system_actor
from tocsin.actions.incidents import queries
from tocsin.clock import FrozenClock
from tocsin.config import Settings
from tocsin.db.models.services import Service
from tocsin.db.models.teams import Team
from tocsin.db.models.users import User
from tocsin.db.session import Database
from tocsin.domain.access import TeamRole
from tocsin.engine.loop import Engine
from tocsin.notify import notifier as notify
from tocsin.web.routes.incidents import pages as incident_routes


@dataclass(frozen=True)
class Crew:
    alice: User  # responder, paged first; reads times in Berlin
    bob: User  # responder, level 2
    olive: User  # observer: reads, may not respond
    team: Team
    service: Service
    key: str


@pytest.fixture
async def crew(seed: Seed) -> Crew:
    alice = await seed.user("Alice", time_zone="Europe/Berlin")
    bob = await seed.user("Bob")
    olive = await seed.user("Olive")
    team = await seed.team(
        "Payments",
        [(alice, TeamRole.RESPONDER), (bob, TeamRole.RESPONDER), (olive, TeamRole.OBSERVER)],
    )
    policy = await seed.policy(team, [(5, [alice]), (10, [bob])], name="Payments on call")
    service = await seed.service(team, policy, name="payments-api")
    _, key = await seed.integration(service)
    return Crew(alice, bob, olive, team, service, key)


@pytest.fixture
def engine(app: FastAPI, settings: Settings, database: Database, clock: FrozenClock) -> Engine:
    """Escalates and sends mail to the local outbox, so pages have deliveries."""
    return sending_engine(app, database, clock, notify.build(settings, database, clock))


async def alert(
    seed: Seed, client: httpx.AsyncClient, key: str, title: str, dedup_key: str, **fields: object
) -> uuid.UUID:
    """Send a generic alert through the intake; the id of the incident it opened or joined."""
    body = {"title": title, "dedup_key": dedup_key, "severity": "critical", **fields}
    response = await client.post(f"/ingest/{key}", json=body)
    assert response.status_code == 202, response.text
    number = response.json()["results"][0]["incident_number"]
    async with seed.database.transaction() as session:
        found = await queries.find_by_number(session, actor=system_actor("test"), number=number)
        return found.id


async def test_the_list_shows_open_incidents_newest_first_and_filters_them(
    client: httpx.AsyncClient, seed: Seed, crew: Crew, clock: FrozenClock
) -> None:
    first = await alert(seed, client, crew.key, "Disk full on db-1", "disk")
    clock.advance(minutes=1)
    second = await alert(seed, client, crew.key, "Latency high", "latency", severity="warning")
    clock.advance(minutes=1)
    resolved = await alert(seed, client, crew.key, "Old problem", "old")
    alice = await browser(seed, crew.alice)
    await submit(alice, f"/incidents/{resolved}", f"/incidents/{resolved}/resolve")

    page = await alice.get("/incidents")
    assert page.status_code == 200
    shown = re.findall(r'<td><a href="/incidents/([0-9a-f-]+)">#', page.text)
    assert shown == [str(second), str(first)]  # open only, newest first
    everything = await alice.get("/incidents", params={"status": "any"})
    assert re.findall(r'<td><a href="/incidents/([0-9a-f-]+)">#', everything.text) == [
        str(resolved),
        str(second),
        str(first),
    ]
    by_text = await alice.get("/incidents", params={"text": "disk"})
    assert "Disk full on db-1" in by_text.text
    assert "Latency high" not in by_text.text
    low = await alice.get("/incidents", params={"urgency": "low"})
    assert "Latency high" in low.text
    assert "Disk full" not in low.text
    other = await seed.service(crew.team, name="other-service")
    none = await alice.get("/incidents", params={"service": str(other.id)})
    assert "No open incidents match these filters" in text_of(none)


async def test_the_list_pages_by_cursor(
    client: httpx.AsyncClient,
    seed: Seed,
    crew: Crew,
    clock: FrozenClock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(incident_routes, "PAGE_SIZE", 2)
    titles = [f"Problem {number}" for number in range(3)]
    for title in titles:
        await alert(seed, client, crew.key, title, title)
        clock.advance(minutes=1)
    alice = await browser(seed, crew.alice)
    first = await alice.get("/incidents")
    assert "Problem 2" in first.text
    assert "Problem 1" in first.text
    assert "Problem 0" not in first.text
    older = re.search(r'href="(/incidents\?[^"]+)" rel="next"', first.text)
    assert older
    second = await alice.get(older.group(1).replace("&amp;", "&"))
    assert "Problem 0" in second.text
    assert "Problem 2" not in second.text
    assert 'rel="next"' not in second.text


async def test_the_incident_page_shows_alerts_pages_deliveries_and_a_readable_timeline(
    client: httpx.AsyncClient, seed: Seed, crew: Crew, engine: Engine
) -> None:
    labels = {"host": "db-1", "region": "eu-west"}
    incident_id = await alert(seed, client, crew.key, "Disk full on db-1", "disk", labels=labels)
    # A repeat: the alert counts 2 (and takes the repeat's content, labels included).
    await alert(seed, client, crew.key, "Disk full on db-1", "disk", labels=labels)
    await engine.tick()
    page = await (await browser(seed, crew.olive)).get(f"/incidents/{incident_id}")
    assert page.status_code == 200
    text = text_of(page)
    assert "Disk full on db-1" in text
    assert "payments-api" in text
    assert "Triggered at" in text
    assert "host=db-1" in text
    assert "region=eu-west" in text
    assert re.search(r"<td>critical</td>\s*<td>firing</td>\s*<td>2</td>", page.text)
    # Who was paged, at which level and why.
    assert re.search(r"<td>Alice</td>\s*<td>1</td>\s*<td>named in the escalation policy", page.text)
    # The deliveries per channel with their status: with no SMTP the mail is only in the
    # local outbox, and the page does not call that delivered.
    assert "email: 1 in the local outbox" in text
    assert "delivered" not in text
    # The timeline, in sentences, in the viewer's zone (Olive: UTC).
    assert "opened the incident on payments-api, high urgency" in text
    assert "alert repeated: disk, seen 2 times" in text
    assert "paged level 1: Alice — named in the escalation policy" in text
    assert "notifying Alice by email" in text
    assert "Mon 5 Jan 2026 09:00:00 UTC" in text
    # An observer reads everything but gets no buttons.
    assert "Acknowledge</button>" not in page.text
    assert "Add note</button>" not in page.text


async def test_acknowledge_is_a_form_post_that_says_who_acknowledged_and_when(
    client: httpx.AsyncClient, seed: Seed, crew: Crew, engine: Engine, clock: FrozenClock
) -> None:
    incident_id = await alert(seed, client, crew.key, "Disk full", "disk")
    await engine.tick()
    alice = await browser(seed, crew.alice)
    page = await alice.get(f"/incidents/{incident_id}")
    assert "Acknowledge</button>" in page.text
    clock.advance(minutes=2)
    response = await submit(
        alice, f"/incidents/{incident_id}", f"/incidents/{incident_id}/acknowledge"
    )
    assert response.status_code == 303
    assert response.headers["location"] == f"/incidents/{incident_id}"
    after = text_of(await alice.get(response.headers["location"]))
    # Alice reads Berlin time: 09:02 UTC is 10:02 CET.
    assert "Acknowledged by Alice at Mon 5 Jan 2026 10:02:00 CET" in after
    assert "Acknowledged: escalation stopped." in after
    assert "Alice acknowledged the incident (via web)" in after
    assert "pending notification(s) cancelled" in after or "email to Alice sent" in after


async def test_a_form_post_without_the_csrf_token_is_refused(
    client: httpx.AsyncClient, seed: Seed, crew: Crew
) -> None:
    incident_id = await alert(seed, client, crew.key, "Disk full", "disk")
    alice = await browser(seed, crew.alice)
    refused = await alice.post(f"/incidents/{incident_id}/acknowledge", data={"csrf_token": "x"})
    assert refused.status_code == 403
    page = await alice.get(f"/incidents/{incident_id}")
    assert "Triggered at" in text_of(page)


async def test_a_lost_race_names_the_winner_instead_of_an_error_page(
    client: httpx.AsyncClient, seed: Seed, crew: Crew, clock: FrozenClock
) -> None:
    incident_id = await alert(seed, client, crew.key, "Disk full", "disk")
    alice, bob = await browser(seed, crew.alice), await browser(seed, crew.bob)
    stale_page = await bob.get(f"/incidents/{incident_id}")  # Bob opened it before Alice acted
    clock.advance(seconds=30)
    await submit(alice, f"/incidents/{incident_id}", f"/incidents/{incident_id}/acknowledge")
    token = re.search(r'name="csrf_token" value="([^"]+)"', stale_page.text)
    assert token
    lost = await bob.post(
        f"/incidents/{incident_id}/acknowledge", data={"csrf_token": token.group(1)}
    )
    assert lost.status_code == 409
    text = text_of(lost)
    assert "Someone got there first" in text
    assert "already acknowledged by Alice at Mon 5 Jan 2026 09:00:30 UTC" in text  # Bob's zone
    assert "Disk full" in text  # the incident page itself, in its winning state
    with_htmx = await bob.post(
        f"/incidents/{incident_id}/snooze",
        data={"csrf_token": token.group(1), "minutes": "30"},
        headers={"hx-request": "true"},
    )
    assert with_htmx.status_code == 303  # snoozing an acknowledged incident is allowed
    await submit(alice, f"/incidents/{incident_id}", f"/incidents/{incident_id}/resolve")
    swapped = await bob.post(
        f"/incidents/{incident_id}/acknowledge",
        data={"csrf_token": token.group(1)},
        headers={"hx-request": "true"},
    )
    assert swapped.status_code == 200  # htmx swaps only successful responses
    assert "already resolved by Alice" in text_of(swapped)


async def test_resolve_snooze_escalate_reassign_and_note_through_the_forms(
    client: httpx.AsyncClient, seed: Seed, crew: Crew, engine: Engine
) -> None:
    incident_id = await alert(seed, client, crew.key, "Disk full", "disk")
    await engine.tick()
    alice = await browser(seed, crew.alice)
    path = f"/incidents/{incident_id}"

    escalated = await submit(alice, path, f"{path}/escalate", {"level": "2"})
    assert escalated.status_code == 303, escalated.text
    assert "level 2 paged" in text_of(await alice.get(escalated.headers["location"]))
    snoozed = await submit(alice, path, f"{path}/snooze", {"minutes": "60"})
    assert snoozed.status_code == 303
    assert "Snoozed until Mon 5 Jan 2026 11:00 CET" in text_of(await alice.get(path))
    bad = await submit(alice, path, f"{path}/snooze", {"minutes": "soon"})
    assert bad.status_code == 422
    assert "Not done: a whole number." in text_of(bad)
    reassigned = await submit(alice, path, f"{path}/reassign", {"target": f"user:{crew.bob.id}"})
    assert reassigned.status_code == 303
    noted = await submit(alice, path, f"{path}/notes", {"text": "Rebooting <db-1> now"})
    assert noted.status_code == 303
    resolved = await submit(alice, path, f"{path}/resolve", {"note": "Freed 40 GB of logs"})
    assert resolved.status_code == 303
    page = await alice.get(path)
    text = text_of(page)
    assert "Resolved by Alice at" in text
    assert "Alice paged level 2: Bob" in text
    assert "Alice snoozed the incident until Mon 5 Jan 2026 11:00 CET (via web)" in text
    assert "Alice reassigned the incident to Bob" in text
    assert "Rebooting &lt;db-1&gt; now" in page.text  # escaped, never markup
    assert "Freed 40 GB of logs" in text
    assert "Resolve</button>" not in page.text  # nothing left to do but add notes
    assert "Add note</button>" in page.text


async def test_an_observer_may_read_but_not_respond(
    client: httpx.AsyncClient, seed: Seed, crew: Crew
) -> None:
    incident_id = await alert(seed, client, crew.key, "Disk full", "disk")
    olive = await browser(seed, crew.olive)
    refused = await submit(olive, f"/incidents/{incident_id}", f"/incidents/{incident_id}/resolve")
    assert refused.status_code == 403
    assert refused.headers["content-type"].startswith("text/html")
    stranger = await browser(seed, await seed.user("Stranger"))
    refused_note = await submit(
        stranger, f"/incidents/{incident_id}", f"/incidents/{incident_id}/notes", {"text": "hi"}
    )
    assert refused_note.status_code == 403
    assert "Triggered at" in text_of(await olive.get(f"/incidents/{incident_id}"))


async def test_the_email_link_and_the_number_open_the_incident(
    client: httpx.AsyncClient, seed: Seed, crew: Crew
) -> None:
    incident_id = await alert(seed, client, crew.key, "Disk full", "disk")
    anonymous = await client.get(f"/incidents/{incident_id}")
    assert anonymous.status_code == 303
    assert anonymous.headers["location"] == f"/login?next=/incidents/{incident_id}"
    alice = await browser(seed, crew.alice)
    page = await alice.get(f"/incidents/{incident_id}")
    number = re.search(r'<span class="number">#(\d+)</span>', page.text)
    assert number
    by_number = await alice.get(f"/incidents/number/{number.group(1)}")
    assert by_number.status_code == 303
    assert by_number.headers["location"] == f"/incidents/{incident_id}"
    assert (await alice.get("/incidents/number/999999")).status_code == 404
    assert (await alice.get(f"/incidents/{uuid.uuid4()}")).status_code == 404


async def test_untrusted_alert_content_is_escaped_and_only_web_links_are_links(
    client: httpx.AsyncClient, seed: Seed, crew: Crew
) -> None:
    incident_id = await alert(
        seed,
        client,
        crew.key,
        "<script>alert(1)</script>",
        "xss",
        links=[
            {"href": "javascript:alert(1)", "text": "click me"},
            {"href": "https://grafana.example/d/1", "text": "dashboard"},
        ],
    )
    page = await (await browser(seed, crew.alice)).get(f"/incidents/{incident_id}")
    assert "<script>alert(1)</script>" not in page.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text
    assert 'href="javascript:' not in page.text
    assert "click me" in page.text
    assert 'href="https://grafana.example/d/1"' in page.text


async def test_the_nav_links_incidents(seed: Seed, crew: Crew) -> None:
    home = await (await browser(seed, crew.alice)).get("/")
    assert '<a href="/incidents">Incidents <span id="open-count"' in home.text


async def test_home_lists_the_open_incidents_that_paged_me(
    client: httpx.AsyncClient, seed: Seed, crew: Crew, engine: Engine
) -> None:
    paged = await alert(seed, client, crew.key, "Disk full", "disk")
    closed = await alert(seed, client, crew.key, "Old news", "old")
    await engine.tick()
    alice = await browser(seed, crew.alice)
    await submit(alice, f"/incidents/{closed}", f"/incidents/{closed}/resolve")
    home = await alice.get("/")
    assert f'href="/incidents/{paged}"' in home.text
    assert f'href="/incidents/{closed}"' not in home.text
    assert "You are not on call right now." in text_of(home)
    bob_home = text_of(await (await browser(seed, crew.bob)).get("/"))
    assert "Nothing open has paged you." in bob_home  # level 2 has not been reached
