"""Responding fast: acknowledge and resolve from the list (one row, or the rows ticked),
the button order and red emphasis on the incident page, and its keyboard shortcuts."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass

import httpx
import pytest

from tests.builders import Seed
from tests.web.support import browser, csrf_token, submit, text_of
from tests.web.test_incident_pages import alert
from tocsin.actions.actors import system_actor
from tocsin.actions.incidents import bulk, queries
from tocsin.db.models.incidents import Incident
from tocsin.db.models.services import Service
from tocsin.db.models.users import User
from tocsin.domain.access import TeamRole
from tocsin.domain.incidents import IncidentStatus
from tocsin.web.routes.incidents import bulk as bulk_pages


@dataclass(frozen=True)
class Crew:
    alice: User  # responder on Payments
    bob: User  # responder on Payments
    olive: User  # observer on Payments
    key: str  # Payments' integration
    other_key: str  # another team's integration: Alice may not respond there
    service: Service


@pytest.fixture
async def crew(seed: Seed) -> Crew:
    alice, bob, olive = await seed.user("Alice"), await seed.user("Bob"), await seed.user("Olive")
    team = await seed.team(
        "Payments",
        [(alice, TeamRole.RESPONDER), (bob, TeamRole.RESPONDER), (olive, TeamRole.OBSERVER)],
    )
    policy = await seed.policy(team, [(5, [alice])], name="Payments on call")
    service = await seed.service(team, policy, name="payments-api")
    _, key = await seed.integration(service)
    other_team = await seed.team("Search", [(bob, TeamRole.RESPONDER)])
    other = await seed.service(other_team, await seed.policy(other_team, [(5, [bob])]))
    _, other_key = await seed.integration(other)
    return Crew(alice, bob, olive, key, other_key, service)


async def status_of(seed: Seed, incident_id: uuid.UUID) -> IncidentStatus:
    async with seed.database.transaction() as session:
        found = await session.get(Incident, incident_id)
        assert found is not None
        return found.status


async def number_of(seed: Seed, incident_id: uuid.UUID) -> int:
    async with seed.database.transaction() as session:
        found = await queries.get_incident(
            session, actor=system_actor("test"), incident_id=incident_id
        )
        return found.number


def flash(page: httpx.Response) -> tuple[str, str]:
    """The green and the red banner of a page, as text ("" when absent)."""
    notice = re.search(r'<p class="notice" role="status">(.*?)</p>', page.text, re.S)
    error = re.search(r'<p class="error" role="alert">(.*?)</p>', page.text, re.S)
    return (notice.group(1) if notice else "", error.group(1) if error else "")


async def test_the_list_offers_each_row_and_the_ticked_rows_to_those_who_may_respond(
    client: httpx.AsyncClient, seed: Seed, crew: Crew
) -> None:
    urgent = await alert(seed, client, crew.key, "Checkout down", "down")
    low = await alert(seed, client, crew.key, "Disk at 80%", "disk", severity="warning")
    theirs = await alert(seed, client, crew.other_key, "Search slow", "slow")
    page = await (await browser(seed, crew.alice)).get("/incidents")
    assert page.status_code == 200
    assert 'id="incident-bulk"' in page.text
    assert "Acknowledge selected</button>" in page.text
    assert 'formaction="/incidents/resolve">Resolve selected</button>' in page.text
    for mine in (urgent, low):
        assert f'name="incident_id" value="{mine}" form="incident-bulk"' in page.text
        assert f'<input type="hidden" name="incident_id" value="{mine}">' in page.text
    # Another team's incident is listed, with no checkbox and no buttons for Alice.
    assert "Search slow" in page.text
    assert f'value="{theirs}"' not in page.text
    # A triggered high-urgency row is the one in red; the low-urgency one is not.
    rows = dict(
        re.findall(r'<tr class="([^"]*)">\s*<td class="select">.*?value="([^"]+)"', page.text)
    )
    assert {row: classes for classes, row in rows.items()} == {
        str(urgent): "status-triggered urgency-high urgent",
        str(low): "status-triggered urgency-low",
    }
    # An observer reads the list but gets nothing to press.
    observed = await (await browser(seed, crew.olive)).get("/incidents")
    assert "Checkout down" in observed.text
    assert 'id="incident-bulk"' not in observed.text
    assert 'name="incident_id"' not in observed.text


async def test_one_row_acknowledged_from_the_list_lands_back_on_the_same_filtered_list(
    client: httpx.AsyncClient, seed: Seed, crew: Crew
) -> None:
    incident_id = await alert(seed, client, crew.key, "Checkout down", "down")
    alice = await browser(seed, crew.alice)
    filtered = "/incidents?status=open&urgency=high"
    response = await submit(
        alice,
        filtered,
        "/incidents/acknowledge",
        {"incident_id": str(incident_id), "next": filtered},
    )
    assert response.status_code == 303
    assert response.headers["location"] == filtered
    after = await alice.get(filtered)
    number = await number_of(seed, incident_id)
    assert flash(after) == (f"Acknowledged #{number}.", "")
    assert await status_of(seed, incident_id) is IncidentStatus.ACKNOWLEDGED
    page = text_of(await alice.get(f"/incidents/{incident_id}"))
    assert "Alice acknowledged the incident (via web)" in page


async def test_the_ticked_rows_are_acknowledged_then_resolved_together(
    client: httpx.AsyncClient, seed: Seed, crew: Crew
) -> None:
    first = await alert(seed, client, crew.key, "Checkout down", "down")
    second = await alert(seed, client, crew.key, "Disk full", "disk")
    alice = await browser(seed, crew.alice)
    both: dict[str, str | list[str]] = {
        "incident_id": [str(first), str(second)],
        "next": "/incidents",
    }
    acknowledged = await submit(alice, "/incidents", "/incidents/acknowledge", both)
    assert acknowledged.status_code == 303
    numbers = sorted([await number_of(seed, first), await number_of(seed, second)])
    said = flash(await alice.get("/incidents"))
    assert said[1] == ""
    assert said[0] == f"Acknowledged #{numbers[0]} and #{numbers[1]}."
    assert {await status_of(seed, first), await status_of(seed, second)} == {
        IncidentStatus.ACKNOWLEDGED
    }
    # htmx posts the same form; it follows the redirect and swaps the list's main.
    resolved = await submit(
        alice, "/incidents", "/incidents/resolve", both, **{"hx-request": "true"}
    )
    assert resolved.status_code == 303
    assert {await status_of(seed, first), await status_of(seed, second)} == {
        IncidentStatus.RESOLVED
    }
    listed = await alice.get("/incidents")
    assert "Resolved #" in flash(listed)[0]
    assert "Checkout down" not in listed.text  # the open list no longer shows them


async def test_a_partial_outcome_says_what_was_done_and_what_was_not_and_why(
    client: httpx.AsyncClient, seed: Seed, crew: Crew
) -> None:
    mine = await alert(seed, client, crew.key, "Checkout down", "down")
    taken = await alert(seed, client, crew.key, "Disk full", "disk")
    theirs = await alert(seed, client, crew.other_key, "Search slow", "slow")
    alice, bob = await browser(seed, crew.alice), await browser(seed, crew.bob)
    stale = await alice.get("/incidents")  # Alice ticks her rows before Bob acts
    await submit(bob, "/incidents", "/incidents/resolve", {"incident_id": str(taken)})
    gone, vanished = uuid.uuid4(), uuid.uuid4()
    response = await alice.post(
        "/incidents/acknowledge",
        data={
            "csrf_token": csrf_token(stale),
            "incident_id": [str(mine), str(taken), str(theirs), str(gone), str(vanished)],
            "next": "/incidents",
        },
    )
    assert response.status_code == 303
    page = await alice.get(response.headers["location"])
    assert page.status_code == 200
    notice, error = flash(page)
    numbers = {key: await number_of(seed, key) for key in (mine, taken, theirs)}
    assert notice == f"Acknowledged #{numbers[mine]}."
    assert error.startswith("Not acknowledged: ")
    assert f"#{numbers[taken]} was already resolved by Bob" in error
    assert f"#{numbers[theirs]} belongs to a team you do not respond for" in error
    assert error.endswith("; 2 incidents no longer exist.")
    assert await status_of(seed, mine) is IncidentStatus.ACKNOWLEDGED
    assert await status_of(seed, taken) is IncidentStatus.RESOLVED
    assert await status_of(seed, theirs) is IncidentStatus.TRIGGERED  # not Alice's to touch
    # The read-once banner is gone on the next page.
    assert flash(await alice.get("/incidents")) == ("", "")


async def test_nothing_done_is_said_in_red_and_bad_input_is_never_a_500(
    client: httpx.AsyncClient, seed: Seed, crew: Crew
) -> None:
    theirs = await alert(seed, client, crew.other_key, "Search slow", "slow")
    alice = await browser(seed, crew.alice)

    async def post(data: dict[str, str | list[str]]) -> tuple[str, str]:
        response = await submit(alice, "/incidents", "/incidents/acknowledge", data)
        assert response.status_code == 303, response.text
        assert response.headers["location"] == "/incidents"
        return flash(await alice.get("/incidents"))

    assert await post({}) == ("", "Nothing acknowledged: choose at least one incident.")
    assert await post({"incident_id": "not-an-id"}) == (
        "",
        "Nothing acknowledged: the form named an incident that is not one.",
    )
    many = [str(uuid.uuid4()) for _ in range(101)]
    assert await post({"incident_id": many}) == (
        "",
        "Nothing acknowledged: choose at most 100 incidents at once.",
    )
    number = await number_of(seed, theirs)
    assert await post({"incident_id": str(theirs)}) == (
        "",
        f"Nothing acknowledged: #{number} belongs to a team you do not respond for.",
    )
    # Somewhere other than the list is never where the post sends people.
    elsewhere = await submit(
        alice,
        "/incidents",
        "/incidents/acknowledge",
        {"incident_id": str(theirs), "next": "https://evil.example/incidents"},
    )
    assert elsewhere.headers["location"] == "/incidents"
    home = await submit(
        alice, "/incidents", "/incidents/resolve", {"incident_id": str(theirs), "next": "/admin"}
    )
    assert home.headers["location"] == "/incidents"
    # Without the form's CSRF token nothing happens.
    forged = await alice.post("/incidents/acknowledge", data={"incident_id": str(theirs)})
    assert forged.status_code == 403
    assert await status_of(seed, theirs) is IncidentStatus.TRIGGERED


async def test_the_incident_page_ranks_its_buttons_and_offers_keys(
    client: httpx.AsyncClient, seed: Seed, crew: Crew
) -> None:
    urgent = await alert(seed, client, crew.key, "Checkout down", "down")
    low = await alert(seed, client, crew.key, "Disk at 80%", "disk", severity="warning")
    alice = await browser(seed, crew.alice)
    page = await alice.get(f"/incidents/{urgent}")
    assert '<p class="state urgent" id="incident-state" data-live' in page.text
    assert 'class="badge status-triggered urgent"' in page.text
    buttons = re.findall(
        r'<button type="submit" class="(\w+)"[^>]*>(?:<kbd[^>]*>\w</kbd> )?([^<]+)</', page.text
    )
    assert [(label, rank) for rank, label in buttons if rank != "link"] == [
        ("Acknowledge", "primary"),
        ("Resolve", "secondary"),
        ("Snooze", "tertiary"),
        ("Escalate now", "tertiary"),
        ("Reassign", "tertiary"),
        ("Add note", "tertiary"),
    ]
    for key, path in (("a", "acknowledge"), ("r", "resolve"), ("e", "escalate")):
        assert re.search(
            rf'action="/incidents/{urgent}/{path}"[^>]*data-shortcut="{key}"', page.text
        )
    assert "Keyboard: a acknowledge, r resolve, e escalate" in text_of(page)
    # Low urgency is not shouted; once acknowledged, Resolve becomes the first button.
    quiet = await alice.get(f"/incidents/{low}")
    assert '<p class="state" id="incident-state" data-live' in quiet.text
    assert "urgent" not in re.sub(r"<script.*?</script>", "", quiet.text)
    await submit(alice, f"/incidents/{urgent}", f"/incidents/{urgent}/acknowledge")
    acknowledged = await alice.get(f"/incidents/{urgent}")
    assert '<p class="state" id="incident-state" data-live' in acknowledged.text
    assert 'data-shortcut="a"' not in acknowledged.text
    assert re.search(
        r'class="primary" aria-keyshortcuts="r"><kbd aria-hidden="true">r</kbd> Resolve<',
        acknowledged.text,
    )
    assert "Keyboard: r resolve, e escalate" in text_of(acknowledged)


def test_what_was_not_done_is_one_sentence_per_reason_in_number_order() -> None:
    bob = uuid.uuid4()

    def outcome(
        number: int, result: bulk.Result, status: str | None = None, by: str | None = None
    ) -> bulk.Outcome:
        # Bob acknowledged in person (his name is shown); a tool has only its label.
        user_id = bob if by == "bob@example.com" else None
        return bulk.Outcome(uuid.uuid4(), result, number, status, by, user_id)

    outcomes = [
        outcome(9, bulk.Result.DONE),
        outcome(3, bulk.Result.DONE),
        outcome(52, bulk.Result.ALREADY, "acknowledged", "bob@example.com"),
        outcome(4, bulk.Result.ALREADY, "acknowledged", "bob@example.com"),
        outcome(7, bulk.Result.ALREADY, "resolved", "Alertmanager"),
        outcome(11, bulk.Result.NOT_ALLOWED),
        outcome(10, bulk.Result.NOT_ALLOWED),
        bulk.Outcome(uuid.uuid4(), bulk.Result.NOT_FOUND),
    ]
    assert bulk_pages.summary(bulk.BulkAction.ACKNOWLEDGE, outcomes, {bob: "Bob"}) == (
        "Acknowledged #3 and #9.",
        "Not acknowledged: #4 and #52 were already acknowledged by Bob; #7 was already "
        "resolved by Alertmanager; #10 and #11 belong to teams you do not respond for; "
        "one incident no longer exists.",
    )
    assert bulk_pages.summary(bulk.BulkAction.RESOLVE, outcomes[:2], {}) == (
        "Resolved #3 and #9.",
        "",
    )
