"""In Chromium, on a phone and on a laptop: the home page's set-up checklist, followed
link by link from an empty database to a test alert that pages the admin, who
acknowledges it; every step is ticked as it is done, and no page scrolls sideways.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.live_server import LiveServer
from tests.web.browsing import (
    BROWSER_TESTS,
    VIEWPORTS,
    new_person,
    own_server,
    scroll_width,
    sign_in,
)

pytestmark = BROWSER_TESTS

STEPS = 8


# A tocsin of its own for each viewport: the checklist starts from nothing.
server = own_server("checklist", scope="function")


@pytest.mark.parametrize(("width", "height"), VIEWPORTS)
def test_the_checklist_leads_from_nothing_to_an_acknowledged_test_page(
    server: LiveServer, browser: Browser, width: int, height: int
) -> None:
    _, link = new_person(server, "Ivy Admin", "--admin")
    page = sign_in(browser, link, width, height)

    def step(title: str, done_before: int) -> None:
        """From the home page, follow the checklist's step ``title``."""
        page.goto(f"{server.base_url}/")
        checklist = page.locator("#first-run")
        expect(checklist).to_contain_text(f"{done_before} of {STEPS} done")
        fits(page, width)
        checklist.get_by_role("link", name=title).click()
        fits(page, width)

    step("Create a team", 0)
    page.get_by_label("Name").fill("Shop")
    page.get_by_role("button", name="Create team").click()
    expect(page.get_by_role("status")).to_contain_text("You are its admin")

    # The creator is a pageable member: "Add people" is ticked with the team.
    step("Make a schedule", 2)
    page.get_by_label("Name").fill("Shop primary")
    page.get_by_role("button", name="Create schedule").click()
    layer = page.locator("form", has=page.get_by_role("button", name="Add layer"))
    layer.get_by_label("Name").fill("Weekly")
    layer.get_by_label("First handoff").fill("2026-01-05T09:00")
    layer.get_by_label("Participant 1").select_option(label="Ivy Admin")
    layer.get_by_role("button", name="Add layer").click()
    expect(page.get_by_role("status")).to_contain_text("Layer added")

    step("Make an escalation policy", 3)
    page.get_by_label("Name").fill("Shop on call")
    page.get_by_label("Level 1 target 1").select_option(label="Shop primary")
    page.get_by_role("button", name="Create policy").click()
    expect(page.get_by_role("status")).to_have_text("Created Shop on call.")

    step("Add a service", 4)
    page.get_by_label("Name").fill("shop-api")
    page.get_by_role("button", name="Create service").click()
    expect(page.get_by_role("status")).to_contain_text("page through its escalation policy")

    step("Connect an integration", 5)
    page.get_by_label("Name").fill("Prometheus")
    page.get_by_label("Kind").select_option(label="Prometheus Alertmanager")
    page.get_by_role("button", name="Create integration").click()
    expect(page.locator("pre.copyable").first).to_be_visible()

    step("Send a test alert", 6)
    page.get_by_role("button", name="Send a test alert").click()
    expect(page.get_by_role("status")).to_contain_text("Test alert sent: it opened incident #1")

    step("See it page you, and acknowledge it", 7)
    page.get_by_role("link", name=re.compile("Test alert from tocsin")).first.click()
    # The engine pages whoever the schedule has on call: the admin.
    expect(page.locator("ol.timeline")).to_contain_text("paged level 1: Ivy Admin", timeout=10_000)
    fits(page, width)
    page.get_by_role("button", name="Acknowledge").first.click()
    expect(page.locator("#incident-state")).to_contain_text("acknowledged")

    # Every step done: the checklist has gone from the home page.
    page.goto(f"{server.base_url}/")
    expect(page.get_by_role("heading", name="Hello, Ivy Admin")).to_be_visible()
    expect(page.locator("#first-run")).to_have_count(0)
    fits(page, width)
    page.close()


def fits(page: Page, width: int) -> None:
    assert scroll_width(page) <= width, f"{page.url} is {scroll_width(page)} px wide at {width}"
