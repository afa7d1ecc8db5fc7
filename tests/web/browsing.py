"""What the Chromium tests share: the browser, a tocsin of their own, signing in as a new
person, and setting up a service that pages someone (through the API).

Each test module starts its own ``tocsin serve`` (``live_tocsin``) on a copy of the
migrated database, so the modules' data stay apart; the browser itself is one per module
(``tests/web/conftest.py``).
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Literal

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect

from tests.conftest import cloned_database
from tests.live_server import LiveServer, running_tocsin

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"

# For a module of browser tests: marked, and skipped where Debian's Chromium is missing.
BROWSER_TESTS = [
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

VIEWPORTS = [(390, 844), (1280, 800)]


@contextmanager
def live_tocsin(
    server_url: str, template_database: str, folder: Path, **extra_env: str
) -> Iterator[LiveServer]:
    """``tocsin serve`` on a fresh copy of the migrated database."""
    with (
        cloned_database(server_url, template_database) as url,
        running_tocsin(url, folder, extra_env=extra_env) as live,
    ):
        yield live


def own_server(
    folder: str, *, scope: Literal["function", "module"] = "module", **extra_env: str
) -> Any:
    """The ``server`` fixture of a browser test module: ``tocsin serve`` of its own, on a
    fresh copy of the migrated database, its data in a temporary ``folder``; for the whole
    module, or (``scope="function"``) for each test."""

    @pytest.fixture(scope=scope, name="server")
    def server(
        server_url: str, template_database: str, tmp_path_factory: pytest.TempPathFactory
    ) -> Iterator[LiveServer]:
        with live_tocsin(
            server_url, template_database, tmp_path_factory.mktemp(folder), **extra_env
        ) as live:
            yield live

    return server


def new_person(server: LiveServer, name: str, *options: str) -> tuple[str, str]:
    """A person made with ``tocsin users create``: their id and one-time login link."""
    email = f"{name.replace(' ', '.').lower()}@example.com"
    created = server.cli("users", "create", email, "--name", name, *options)
    link = re.search(r"(http://\S+/login/link/\S+)", created.stdout)
    user_id = re.search(r"\(([0-9a-f-]{36})\)", created.stdout)
    assert link, created.stdout
    assert user_id, created.stdout
    return user_id.group(1), link.group(1)


def sign_in(browser: Browser, link: str, width: int, height: int) -> Page:
    """A new page of ``width`` x ``height``, signed in through the one-time ``link``."""
    page = browser.new_page(viewport={"width": width, "height": height})
    page.goto(link)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(re.compile(r"/profile"))
    return page


def signed_in_admin(server: LiveServer, browser: Browser, name: str, width: int) -> Page:
    """A new platform admin, signed in, on a phone (below 700 px) or laptop viewport."""
    _, link = new_person(server, name, "--admin")
    return sign_in(browser, link, width, 844 if width < 700 else 800)


def scroll_width(page: Page) -> int:
    width: int = page.evaluate("document.documentElement.scrollWidth")
    return width


def setup_key(server: LiveServer) -> str:
    scopes = ("users:read", "teams:write", "policies:write", "services:write")
    args = [arg for scope in (*scopes, "integrations:write") for arg in ("--scope", scope)]
    issued = server.cli("api-keys", "create", "--name", "browser test setup", *args)
    return issued.stdout.strip().splitlines()[-1]


def service_paging(
    server: LiveServer, api_key: str, user_id: str, *, name: str = "Checkout"
) -> str:
    """A team, a policy paging ``user_id`` and a service with a generic integration;
    returns the integration key."""
    with httpx.Client(
        base_url=server.base_url, headers={"Authorization": f"Bearer {api_key}"}, timeout=10
    ) as api:

        def post(path: str, body: dict[str, object]) -> dict[str, object]:
            response = api.post(path, json=body)
            assert response.status_code in (200, 201), response.text
            result: dict[str, object] = response.json()
            return result

        team = post("/api/v1/teams", {"name": name})
        post(f"/api/v1/teams/{team['id']}/members", {"user_id": user_id, "role": "responder"})
        level = {"delay_minutes": 5, "targets": [{"kind": "user", "id": user_id}]}
        policy = post(
            "/api/v1/escalation-policies",
            {"team_id": team["id"], "name": "Checkout on call", "levels": [level]},
        )
        service = post(
            "/api/v1/services",
            {
                "team_id": team["id"],
                "name": f"{name.lower()}-api",
                "escalation_policy_id": policy["id"],
            },
        )
        integration = post(
            "/api/v1/integrations",
            {"name": f"{name.lower()} alerts", "kind": "generic", "service_id": service["id"]},
        )
        return str(integration["key"])
