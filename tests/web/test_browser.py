"""A real browser (Debian's Chromium, driven by Playwright) signs in and administers.

The newcomer's path: open the one-time login link, confirm, set a password, sign out, sign
in with it, then create a team and add a member, all through the pages. The responder's
path: an alert arrives at the intake, the incident is on /incidents, the responder opens it
and acknowledges it, and the page says who acknowledged it.
"""

from __future__ import annotations

import base64
import json
import re
from pathlib import Path
from typing import Any

import httpx
import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Browser, Page, expect

from tests.fakes.push import FakePushService, unb64url
from tests.live_server import LiveServer
from tests.web.browsing import (
    BROWSER_TESTS,
    new_person,
    own_server,
    service_paging,
    setup_key,
    signed_in_admin,
)

pytestmark = BROWSER_TESTS


# The fake push service of the push test listens on 127.0.0.1, over http.
server = own_server("browser", TOCSIN_ALLOW_PRIVATE_DESTINATIONS="true")


def test_sign_in_set_a_password_and_manage_a_team(server: LiveServer, browser: Browser) -> None:
    _, link = new_person(server, "Ada Admin", "--admin")
    new_person(server, "Bob Builder")

    page: Page = browser.new_page()
    page.goto(link)
    expect(page.get_by_role("heading", name="Sign in as Ada Admin")).to_be_visible()
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(re.compile(r"/profile"))

    page.get_by_label("New password (12 characters or more)").fill("a long enough password")
    page.get_by_label("New password again").fill("a long enough password")
    page.get_by_role("button", name="Set password").click()
    expect(page.get_by_role("status")).to_have_text("Password changed.")

    page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(re.compile(r"/login$"))
    page.get_by_label("Email").fill("ADA.Admin@example.com")
    page.get_by_label("Password").fill("a long enough password")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Hello, Ada Admin")).to_be_visible()

    page.get_by_role("link", name="Teams").click()
    page.get_by_label("Name").fill("Payments")
    page.get_by_label("Description").fill("Card processing")
    page.get_by_role("button", name="Create team").click()
    expect(page.get_by_role("heading", name="Payments")).to_be_visible()

    page.get_by_label("New member", exact=True).select_option(
        label="Bob Builder (bob.builder@example.com)"
    )
    page.get_by_label("Role of the new member").select_option("observer")
    page.get_by_role("button", name="Add member").click()
    expect(page.get_by_role("status")).to_have_text("Member added.")
    row = page.get_by_role("row", name=re.compile("Bob Builder"))
    expect(row.get_by_label("Role of Bob Builder")).to_have_value("observer")

    # A destructive button asks first, in a <dialog>: cancelled, nothing happens;
    # accepted, it is done.
    row.get_by_role("button", name="Remove").click()
    dialog = page.get_by_role("dialog", name="Are you sure?")
    expect(dialog).to_contain_text(
        "Remove Bob Builder from Payments? They stop being paged through this team."
    )
    dialog.get_by_role("button", name="Cancel").click()
    expect(dialog).to_have_count(0)
    expect(row).to_be_visible()
    row.get_by_role("button", name="Remove").click()
    page.get_by_role("dialog").get_by_role("button", name="Remove").click()
    expect(page.get_by_role("status")).to_have_text("Member removed.")
    expect(page.get_by_role("row", name=re.compile("Bob Builder"))).to_have_count(0)
    page.close()


def test_an_alert_becomes_an_incident_that_a_responder_acknowledges(
    server: LiveServer, browser: Browser
) -> None:
    rita_id, link = new_person(server, "Rita Responder")
    key = setup_key(server)
    integration_key = service_paging(server, key, rita_id)
    sent = httpx.post(
        f"{server.base_url}/ingest/{integration_key}",
        json={"title": "Checkout error rate above 5%", "dedup_key": "checkout-5xx"},
        timeout=10,
    )
    assert sent.status_code == 202, sent.text

    page: Page = browser.new_page()
    page.goto(link)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(re.compile(r"/profile"))
    page.get_by_role("link", name="Incidents").click()
    page.get_by_role("link", name="Checkout error rate above 5%").click()
    expect(page.get_by_role("heading", name=re.compile("Checkout error rate"))).to_be_visible()
    # The engine inside `tocsin serve` pages Rita at once; the page shows it once reloaded.
    expect(page.locator("#incident-state")).to_contain_text("Triggered at")
    page.get_by_role("button", name="Acknowledge").click()
    expect(page.locator("#incident-state")).to_contain_text("Acknowledged by Rita Responder at")
    expect(page.get_by_role("status")).to_have_text("Acknowledged: escalation stopped.")
    expect(page.get_by_role("button", name="Acknowledge")).to_have_count(0)
    expect(page.locator("ol.timeline")).to_contain_text("Rita Responder acknowledged the incident")
    page.close()


def test_push_is_enabled_on_a_device_and_its_button_acknowledges_from_the_service_worker(
    server: LiveServer, browser: Browser
) -> None:
    pia_id, link = new_person(server, "Pia Pager")
    integration_key = service_paging(server, setup_key(server), pia_id, name="Web")
    push_service = FakePushService()
    push_service.start()
    try:
        push_service.application_server_key = httpx.get(
            f"{server.base_url}/push/key", timeout=10
        ).json()["public_key"]
        subscription = push_service.subscription()
        context = browser.new_context()
        context.grant_permissions(["notifications"], origin=server.base_url)
        # Chromium's own push service (FCM) is out of reach here: the browser's
        # subscribe() answers with the fake service's subscription, as FCM would.
        context.add_init_script(
            "PushManager.prototype.subscribe = async function (options) {"
            "  sessionStorage.setItem('subscribedWithKey', btoa(String.fromCharCode("
            "    ...new Uint8Array(options.applicationServerKey))));"
            f"  const subscription = {json.dumps(subscription.form())};"
            "  return { toJSON: () => ({ endpoint: subscription.endpoint,"
            "    keys: { p256dh: subscription.p256dh, auth: subscription.auth } }) };"
            "};"
        )
        page = context.new_page()
        page.goto(link)
        page.get_by_role("button", name="Sign in").click()
        expect(page).to_have_url(re.compile(r"/profile"))
        page.goto(f"{server.base_url}/profile/notifications")
        page.get_by_role("button", name="Enable push on this device").click()
        expect(
            page.get_by_role("row", name=re.compile(r"push Chrome on Linux verified"))
        ).to_be_visible()
        subscribed_with = page.evaluate("sessionStorage.getItem('subscribedWithKey')")
        assert (
            subscribed_with
            == base64.b64encode(unb64url(push_service.application_server_key)).decode()
        )

        sent = httpx.post(
            f"{server.base_url}/ingest/{integration_key}",
            json={"title": "Checkout latency above 2 s", "dedup_key": "checkout-latency"},
            timeout=10,
        )
        assert sent.status_code == 202, sent.text
        pushed = push_service.expect(subscription).payload
        assert pushed["title"].endswith("Checkout latency above 2 s")

        worker = (
            context.service_workers[0]
            if context.service_workers
            else (context.wait_for_event("serviceworker"))
        )
        bodies = worker.evaluate(
            """async (data) => {
                await self.tocsin.showPush(data);
                const [shown] = await self.registration.getNotifications({ tag: data.tag });
                await self.tocsin.act(shown, "acknowledge");
                const now = await self.registration.getNotifications({ tag: data.tag });
                return now.map((n) => n.body);
            }""",
            pushed,
        )
        assert any(body.startswith("Acknowledged: #") for body in bodies), bodies
        # Acknowledged: every device's notification is replaced, silently.
        replaced = push_service.expect(subscription).payload
        assert replaced["body"] == "Acknowledged by pia.pager@example.com"
        assert replaced["actions"] == []
        context.close()
    finally:
        push_service.stop()
    assert push_service.unexpected() == []


PAGES = (
    "/",
    "/incidents",
    "/services",
    "/schedules",
    "/escalation-policies",
    "/escalation-policies/new",
    "/integrations",
    "/integrations/new",
    "/teams",
    "/profile",
    "/profile/notifications",
    "/admin/users",
    "/admin/api-keys",
    "/outbox",
)

# Where the first detail page of each kind is linked from.
LISTINGS = (
    ("/incidents?status=any", "/incidents/"),
    ("/services", "/services/"),
    ("/schedules", "/schedules/"),
    ("/escalation-policies", "/escalation-policies/"),
    ("/integrations", "/integrations/"),
    ("/teams", "/teams/"),
    ("/admin/users", "/admin/users/"),
    ("/outbox", "/outbox/"),
)


def _detail_pages(page: Page, server: LiveServer) -> list[str]:
    """The first detail page of each kind: the earlier tests of this module made teams,
    policies, services, integrations, incidents and mail."""
    found = []
    for listing, prefix in LISTINGS:
        page.goto(f"{server.base_url}{listing}")
        first = page.locator(f"main a[href^='{prefix}']:not([href$='/new'])").first
        if first.count():
            found.append(first.get_attribute("href") or "")
    return found


@pytest.mark.parametrize("width", [390, 1280])
def test_no_page_scrolls_sideways_on_a_phone_or_a_laptop(
    server: LiveServer, browser: Browser, width: int, tmp_path: Path
) -> None:
    page = signed_in_admin(server, browser, f"Wanda {width}", width)
    details = _detail_pages(page, server)
    assert len(details) >= 5, details
    wide: dict[str, int] = {}
    for path in (*PAGES, *details):
        page.goto(f"{server.base_url}{path}")
        page.screenshot(path=str(tmp_path / f"{width}{path.replace('/', '_')}.png"), full_page=True)
        scroll = page.evaluate("document.documentElement.scrollWidth")
        if scroll > width:
            wide[path] = scroll
    assert wide == {}, f"pages wider than {width} px: {wide}"
    page.close()


def test_every_destructive_button_asks_in_a_dialog_and_cancel_changes_nothing(
    server: LiveServer, browser: Browser
) -> None:
    page = signed_in_admin(server, browser, "Cy Careful", 390)
    asked: dict[str, list[str]] = {}
    for path in ("/admin/api-keys", "/profile/notifications", *_detail_pages(page, server)):
        page.goto(f"{server.base_url}{path}")
        buttons = page.locator("main button.danger")
        for index in range(buttons.count()):
            buttons.nth(index).click()
            dialog = page.get_by_role("dialog", name="Are you sure?")
            expect(dialog).to_be_visible()
            asked.setdefault(path, []).append(dialog.locator("p").first.inner_text())
            dialog.get_by_role("button", name="Cancel").click()
            expect(dialog).to_have_count(0)
            assert page.url == f"{server.base_url}{path}"
    page.close()
    # Each page asked its own question, never the fallback.
    questions = [question for found in asked.values() for question in found]
    assert any(path.startswith("/services/") for path in asked), asked
    assert any(path.startswith("/teams/") for path in asked), asked
    assert len(questions) >= 4, asked
    assert "This cannot be undone. Go on?" not in questions


def test_the_main_pages_have_no_serious_accessibility_faults(
    server: LiveServer, browser: Browser
) -> None:
    """axe-core, run in Chromium on each page as it is served, finds nothing serious or
    critical (a missing label, text without contrast, a button with no name...)."""
    axe = Axe()
    signed_out = browser.new_page(viewport={"width": 1280, "height": 800})
    signed_out.goto(f"{server.base_url}/login")
    faults = {"/login": _serious(axe.run(signed_out).response)}
    signed_out.close()
    page = signed_in_admin(server, browser, "Axel Access", 1280)
    for path in (*PAGES, *_detail_pages(page, server)):
        page.goto(f"{server.base_url}{path}")
        faults[path] = _serious(axe.run(page).response)
    page.close()
    assert {path: found for path, found in faults.items() if found} == {}


def _serious(results: dict[str, Any]) -> list[str]:
    """The serious and critical violations axe reports: rule, and where."""
    return [
        f"{violation['id']} ({violation['impact']}): "
        + ", ".join(str(node["target"]) for node in violation["nodes"][:5])
        for violation in results["violations"]
        if violation["impact"] in ("serious", "critical")
    ]
