"""Responding fast in a real browser (Debian's Chromium through Playwright), on a phone and
on a laptop: the a / r / e keys on an incident page, and acknowledging and resolving the
rows ticked on the incident list, with no page scrolling sideways."""

from __future__ import annotations

import re
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, Locator, Page, expect

from tests.live_server import LiveServer
from tests.web.browsing import (
    BROWSER_TESTS,
    VIEWPORTS,
    new_person,
    own_server,
    scroll_width,
    service_paging,
    setup_key,
    sign_in,
)

pytestmark = BROWSER_TESTS


def _responder_with_alerts(
    server: LiveServer, browser: Browser, name: str, width: int, height: int, titles: list[str]
) -> Page:
    """``name``, a responder paged by a service of their own, those alerts sent to it, and
    a page of the given size signed in as them."""
    user_id, link = new_person(server, name, "--time-zone", "UTC")
    key = service_paging(server, setup_key(server), user_id, name=f"Shop {name}")
    for title in titles:
        sent = httpx.post(
            f"{server.base_url}/ingest/{key}",
            json={"title": title, "dedup_key": title, "severity": "critical"},
            timeout=10,
        )
        assert sent.status_code == 202, sent.text
    return sign_in(browser, link, width, height)


server = own_server("respond")


@pytest.mark.parametrize(("width", "height"), VIEWPORTS)
def test_keys_acknowledge_resolve_and_escalate_an_incident(
    server: LiveServer, browser: Browser, width: int, height: int, tmp_path: Path
) -> None:
    first, second = f"K{width} checkout down", f"K{width} queue stuck"
    page = _responder_with_alerts(server, browser, f"Rory {width}", width, height, [first, second])
    page.goto(f"{server.base_url}/incidents?text=K{width}")
    page.get_by_role("link", name=first).click()
    state = page.locator("#incident-state")
    expect(state).to_contain_text("Triggered at")
    # The red emphasis of a triggered high-urgency incident, and the keys it offers.
    expect(state).to_have_class(re.compile(r"\burgent\b"))
    expect(page.locator(".shortcuts")).to_have_text(
        "Keyboard: a acknowledge, r resolve, e escalate (when not typing in a field)."
    )
    page.screenshot(path=str(tmp_path / f"incident-{width}.png"), full_page=True)
    assert scroll_width(page) <= width

    # Pressed twice in a hurry: one acknowledgement, not a "someone got there first".
    page.keyboard.press("a")
    page.keyboard.press("a")
    expect(state).to_contain_text(f"Acknowledged by Rory {width} at")
    expect(page.get_by_role("status")).to_have_text("Acknowledged: escalation stopped.")
    expect(page.get_by_role("alert")).to_have_count(0)
    expect(state).not_to_have_class(re.compile(r"\burgent\b"))

    # "r" typed into the resolution note is a letter, not a shortcut.
    note = page.get_by_label("Resolution note")
    note.press_sequentially("rr")
    expect(note).to_have_value("rr")
    expect(state).to_contain_text("Acknowledged by")
    # Out of the field, "r" resolves, sending the note typed with the form.
    note.blur()
    page.keyboard.press("r")
    expect(state).to_contain_text(f"Resolved by Rory {width} at")
    expect(page.get_by_role("status")).to_have_text("Resolved.")
    expect(page.locator("ol.timeline")).to_contain_text("rr")

    page.goto(f"{server.base_url}/incidents?text=K{width}")
    page.get_by_role("link", name=second).click()
    expect(page.locator("#incident-state")).to_contain_text("Triggered at")
    page.keyboard.press("e")
    expect(page.get_by_role("status")).to_contain_text("Escalated")
    # Ctrl+A selects text as ever; it acknowledges nothing.
    page.keyboard.press("Control+a")
    expect(page.locator("#incident-state")).to_contain_text("Triggered at")
    assert scroll_width(page) <= width
    page.close()


@pytest.mark.parametrize(("width", "height"), VIEWPORTS)
def test_the_rows_ticked_are_acknowledged_then_resolved_from_the_list(
    server: LiveServer, browser: Browser, width: int, height: int, tmp_path: Path
) -> None:
    titles = [f"M{width} disk full", f"M{width} latency high", f"M{width} errors up"]
    page = _responder_with_alerts(server, browser, f"Mia {width}", width, height, titles)
    listed = f"{server.base_url}/incidents?text=M{width}"
    page.goto(listed)
    rows = page.locator("table.incidents tbody tr")
    expect(rows).to_have_count(3)
    expect(page.locator("tr.urgent")).to_have_count(3)
    page.screenshot(path=str(tmp_path / f"list-{width}.png"), full_page=True)
    assert scroll_width(page) <= width

    # On a phone the rows are cards (display: block), so they are found by their text.
    def row(title: str) -> Locator:
        return rows.filter(has_text=title)

    for title in titles[:2]:
        row(title).get_by_role("checkbox").check()
    page.get_by_role("button", name="Acknowledge selected").click()
    expect(page.get_by_role("status")).to_have_text(re.compile(r"^Acknowledged #\d+ and #\d+\.$"))
    for title in titles[:2]:
        expect(row(title)).to_contain_text("acknowledged")
    third = row(titles[2])
    expect(third).to_contain_text("triggered")
    expect(page).to_have_url(listed)  # still the filtered list
    page.screenshot(path=str(tmp_path / f"list-acknowledged-{width}.png"), full_page=True)
    assert scroll_width(page) <= width

    # One row's own button, then "select all" (shown once the script runs) and resolve.
    third.get_by_role("button", name="Acknowledge").click()
    expect(page.get_by_role("status")).to_have_text(re.compile(r"^Acknowledged #\d+\.$"))
    page.get_by_label("Select all").check()
    for box in page.locator("input[name=incident_id][type=checkbox]").all():
        expect(box).to_be_checked()
    page.get_by_role("button", name="Resolve selected").click()
    expect(page.get_by_role("status")).to_have_text(re.compile(r"^Resolved #\d+, #\d+ and #\d+\.$"))
    expect(rows).to_have_count(0)  # the open list has nothing left of them
    assert scroll_width(page) <= width
    page.close()
