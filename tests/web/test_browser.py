"""A real browser (Debian's Chromium, driven by Playwright) signs in and administers.

The newcomer's path: open the one-time login link, confirm, set a password, sign out, sign
in with it, then create a team and add a member, all through the pages.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

from tests.conftest import cloned_database
from tests.live_server import LiveServer, running_tocsin

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian's chromium is not installed"),
]

CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    # Without these Chromium keeps trying to reach Google on a machine with no internet.
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="module")
def server(
    server_url: str, template_database: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveServer]:
    with (
        cloned_database(server_url, template_database) as url,
        running_tocsin(url, tmp_path_factory.mktemp("browser")) as live,
    ):
        yield live


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_FLAGS
        )
        yield launched
        launched.close()


def test_sign_in_set_a_password_and_manage_a_team(server: LiveServer, browser: Browser) -> None:
    created = server.cli("users", "create", "ada@example.com", "--name", "Ada Admin", "--admin")
    link = re.search(r"(http://\S+/login/link/\S+)", created.stdout)
    assert link, created.stdout
    server.cli("users", "create", "bob@example.com", "--name", "Bob Builder")

    page: Page = browser.new_page()
    page.goto(link.group(1))
    expect(page.get_by_role("heading", name="Sign in as Ada Admin")).to_be_visible()
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(re.compile(r"/profile"))

    page.get_by_label("New password (12 characters or more)").fill("a long enough password")
    page.get_by_label("New password again").fill("a long enough password")
    page.get_by_role("button", name="Set password").click()
    expect(page.get_by_role("status")).to_have_text("Password changed.")

    page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(re.compile(r"/login$"))
    page.get_by_label("Email").fill("ADA@example.com")
    page.get_by_label("Password").fill("a long enough password")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Hello, Ada Admin")).to_be_visible()

    page.get_by_role("link", name="Teams").click()
    page.get_by_label("Name").fill("Payments")
    page.get_by_label("Description").fill("Card processing")
    page.get_by_role("button", name="Create team").click()
    expect(page.get_by_role("heading", name="Payments")).to_be_visible()

    page.get_by_label("New member", exact=True).select_option(label="Bob Builder (bob@example.com)")
    page.get_by_label("Role of the new member").select_option("observer")
    page.get_by_role("button", name="Add member").click()
    expect(page.get_by_role("status")).to_have_text("Member added.")
    row = page.get_by_role("row", name=re.compile("Bob Builder"))
    expect(row.get_by_label("Role of Bob Builder")).to_have_value("observer")
    page.close()
