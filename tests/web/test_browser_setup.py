"""In Chromium: set up from an empty team to a test alert that pages, through the pages.

A platform admin creates a team (and is its admin), an escalation policy paging
themselves, a service (which takes that policy by default), and an Alertmanager
integration; copies its YAML with the Copy button; sends a test alert from the
integration's page and follows the link to the incident it opened.
"""

from __future__ import annotations

import re

from playwright.sync_api import Browser, Page, expect

from tests.live_server import LiveServer
from tests.web.browsing import BROWSER_TESTS, new_person, own_server

pytestmark = BROWSER_TESTS


server = own_server("browser-setup")


def test_from_a_new_team_to_a_test_alert_that_pages(server: LiveServer, browser: Browser) -> None:
    _, link = new_person(server, "Lea Lead", "--admin")
    context = browser.new_context()
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=server.base_url)
    page: Page = context.new_page()
    page.goto(link)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(re.compile(r"/profile"))

    page.goto(f"{server.base_url}/teams")
    page.get_by_label("Name").fill("Checkout")
    page.get_by_role("button", name="Create team").click()
    expect(page.get_by_role("status")).to_contain_text("You are its admin")
    expect(page.get_by_label("Role of Lea Lead")).to_have_value("admin")

    page.goto(f"{server.base_url}/escalation-policies/new")
    page.get_by_label("Name").fill("Checkout on call")
    page.get_by_label("Level 1 target 1").select_option(label="Lea Lead (lea.lead@example.com)")
    page.get_by_role("button", name="Create policy").click()
    expect(page.get_by_role("status")).to_have_text("Created Checkout on call.")

    page.goto(f"{server.base_url}/services")
    page.get_by_label("Name").fill("checkout-api")
    page.get_by_role("button", name="Create service").click()
    expect(page.get_by_role("status")).to_contain_text("page through its escalation policy")

    page.goto(f"{server.base_url}/integrations/new")
    page.get_by_label("Name").fill("Prometheus")
    page.get_by_label("Kind").select_option(label="Prometheus Alertmanager")
    page.get_by_role("button", name="Create integration").click()
    yaml = page.locator("pre.copyable").filter(has_text="webhook_configs")
    expect(yaml).to_be_visible()
    yaml.locator("xpath=following-sibling::button[1]").click()
    expect(page.get_by_role("button", name="Copied")).to_be_visible()
    copied = page.evaluate("navigator.clipboard.readText()")
    assert "    webhook_configs:\n      - url: 'http" in copied
    assert "/ingest/tik_" in copied

    # On a phone the configuration wraps inside the card: nothing scrolls sideways.
    page.set_viewport_size({"width": 390, "height": 844})
    assert page.evaluate("document.documentElement.scrollWidth") <= 390

    page.get_by_role("link", name="Go to the integration").click()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.set_viewport_size({"width": 1280, "height": 800})
    page.get_by_role("button", name="Send a test alert").click()
    expect(page.get_by_role("status")).to_contain_text("Test alert sent: it opened incident #1")
    page.get_by_role("link", name="#1").click()
    expect(page.get_by_role("heading", name=re.compile("Test alert from tocsin"))).to_be_visible()
    expect(page.locator("ol.timeline")).to_contain_text("paged level 1: Lea Lead", timeout=10_000)
    context.close()
