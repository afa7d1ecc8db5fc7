"""Live pages in a real browser: an acknowledgement made through the API shows on an open
incident page, the incident list and the home page within a second, and the nav's
open-incident count and the tab title follow new and resolved incidents, with no reload
and no polling."""

from __future__ import annotations

import re

import httpx
from playwright.sync_api import Browser, expect

from tests.live_server import LiveServer
from tests.web.browsing import BROWSER_TESTS, new_person, own_server, service_paging, setup_key

pytestmark = BROWSER_TESTS


server = own_server("live")


def test_an_open_incident_page_shows_an_acknowledgement_made_through_the_api_within_a_second(
    server: LiveServer, browser: Browser
) -> None:
    lena_id, link = new_person(server, "Lena Live")
    integration_key = service_paging(server, setup_key(server), lena_id, name="Live")
    responder = server.cli(
        "api-keys", "create", "--name", "responder bot",
        "--scope", "incidents:read", "--scope", "incidents:write",
    ).stdout.strip().splitlines()[-1]  # fmt: skip

    with httpx.Client(
        base_url=server.base_url, headers={"Authorization": f"Bearer {responder}"}, timeout=10
    ) as api:

        def alert(title: str) -> str:
            sent = api.post(f"/ingest/{integration_key}", json={"title": title, "dedup_key": title})
            assert sent.status_code == 202, sent.text
            found = api.get("/api/v1/incidents", params={"status": "triggered"}).json()["items"]
            return next(str(item["id"]) for item in found if item["title"] == title)

        incident = alert("Disk full on db-1")
        context = browser.new_context()
        page = context.new_page()
        page.goto(link)
        page.get_by_role("button", name="Sign in").click()
        expect(page).to_have_url(re.compile(r"/profile"))
        page.goto(f"{server.base_url}/incidents/{incident}")
        expect(page.locator("#incident-state")).to_contain_text("Triggered at")
        expect(page.locator("#open-count")).to_have_text("1")
        expect(page).to_have_title(re.compile(r"^\(1\) #\d+ Disk full on db-1"))
        listing = context.new_page()
        listing.goto(f"{server.base_url}/incidents")
        expect(listing.locator("#incident-list")).to_contain_text("Disk full on db-1")
        home = context.new_page()
        home.goto(f"{server.base_url}/")
        # The engine inside `tocsin serve` pages Lena at once; the home page lists it.
        expect(home.locator("#my-incidents")).to_contain_text("Disk full on db-1")
        # Let the tabs' event streams open before anything changes.
        page.wait_for_timeout(300)

        acked = api.post(f"/api/v1/incidents/{incident}/acknowledge")
        assert acked.status_code == 200, acked.text
        expect(page.locator("#incident-state")).to_contain_text(
            "Acknowledged by api key responder bot", timeout=1000
        )
        expect(page.locator("#incident-timeline")).to_contain_text("acknowledged", timeout=1000)
        expect(page.get_by_role("button", name="Acknowledge")).to_have_count(0)
        expect(listing.locator("#incident-list")).to_contain_text("acknowledged", timeout=1000)

        # Words being typed are never swapped away: the part holding them waits.
        note = page.get_by_label("Resolution note")
        note.fill("rotated the logs")
        snoozed = api.post(f"/api/v1/incidents/{incident}/snooze", json={"minutes": 30})
        assert snoozed.status_code == 200, snoozed.text
        expect(page.locator("#incident-state")).to_contain_text("Snoozed until", timeout=1000)
        expect(note).to_have_value("rotated the logs")
        note.fill("")
        note.blur()

        second = alert("Checkout latency high")
        expect(page.locator("#open-count")).to_have_text("2", timeout=1000)
        expect(page).to_have_title(re.compile(r"^\(2\) "), timeout=1000)
        expect(listing.locator("#incident-list")).to_contain_text(
            "Checkout latency high", timeout=1000
        )

        resolved = api.post(f"/api/v1/incidents/{incident}/resolve", json={})
        assert resolved.status_code == 200, resolved.text
        expect(page.locator("#incident-state")).to_contain_text("Resolved by", timeout=1000)
        expect(page.locator("#open-count")).to_have_text("1", timeout=1000)
        expect(listing.locator("#incident-list")).not_to_contain_text(
            "Disk full on db-1", timeout=1000
        )
        expect(home.locator("#my-incidents")).not_to_contain_text("Disk full on db-1", timeout=1000)
        assert api.post(f"/api/v1/incidents/{second}/resolve", json={}).status_code == 200
        expect(page.locator("#open-count")).to_be_hidden(timeout=1000)
        expect(page).to_have_title(re.compile(r"^#\d+ Disk full on db-1"), timeout=1000)
        expect(listing.locator("#incident-list")).to_contain_text("No open incidents")
        context.close()
