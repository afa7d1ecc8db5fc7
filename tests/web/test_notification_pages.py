"""The notification settings page: rules per urgency, contact methods, the warning."""

from __future__ import annotations

import re

from tests.builders import Seed
from tests.web.support import browser, submit, submit_confirmed, text_of

SETTINGS = "/profile/notifications"
WARNING = "your rules reach you by no channel"


async def test_rules_are_edited_per_urgency_and_the_warning_follows(seed: Seed) -> None:
    page = await browser(seed, await seed.user("Nia"))
    before = await page.get(SETTINGS)
    assert WARNING not in text_of(before)
    assert 'name="use-email" checked' in before.text
    emptied = await submit(page, SETTINGS, "/profile/notification-rules/low")
    assert emptied.status_code == 303
    warned = text_of(await page.get(SETTINGS))
    assert f"Warning: for low urgency pages, {WARNING}" in warned
    restored = await submit(
        page,
        SETTINGS,
        "/profile/notification-rules/low",
        {"use-email": "on", "delay-email": "3"},
    )
    assert restored.status_code == 303
    after = await page.get(SETTINGS)
    assert WARNING not in text_of(after)
    assert re.search(
        r'name="delay-email" type="number" min="0" max="1440" value="3" '
        r'aria-label="low urgency: Email',
        after.text,
    )


async def test_a_delay_out_of_range_is_refused_on_the_page(seed: Seed) -> None:
    page = await browser(seed, await seed.user("Nia"))
    refused = await submit(
        page, SETTINGS, "/profile/notification-rules/high", {"use-sms": "on", "delay-sms": "5000"}
    )
    assert refused.status_code == 422
    assert "Not saved: a delay is between 0 and 1440 minutes." in text_of(refused)
    words = await submit(
        page, SETTINGS, "/profile/notification-rules/high", {"use-sms": "on", "delay-sms": "soon"}
    )
    assert words.status_code == 422
    assert "must be a whole number" in text_of(words)


async def test_a_phone_is_added_checked_by_code_and_removed(seed: Seed) -> None:
    page = await browser(seed, await seed.user("Nia"))
    added = await submit(
        page, SETTINGS, "/profile/contact-methods", {"kind": "sms", "address": "+1 415 555 0123"}
    )
    assert added.status_code == 303, added.text
    listed = await page.get(SETTINGS)
    method = re.search(r'action="/profile/contact-methods/([0-9a-f-]+)/verify"', listed.text)
    assert method
    method_id = method.group(1)
    wrong = await submit(
        page, SETTINGS, f"/profile/contact-methods/{method_id}/verify", {"code": "000000"}
    )
    assert wrong.status_code == 422
    assert "Not verified: wrong code (4 tries left)." in text_of(wrong)
    too_soon = await submit(page, SETTINGS, f"/profile/contact-methods/{method_id}/resend")
    assert "Not sent: a new code can be sent once a minute." in text_of(too_soon)
    removed = await submit_confirmed(page, SETTINGS, f"/profile/contact-methods/{method_id}/remove")
    assert removed.status_code == 303
    assert "+14155550123" not in (await page.get(SETTINGS)).text


async def test_nobody_removes_another_persons_contact_method(seed: Seed) -> None:
    owner = await browser(seed, await seed.user("Nia"))
    settings = await owner.get(SETTINGS)
    own_method = re.search(r'action="/profile/contact-methods/([0-9a-f-]+)/remove"', settings.text)
    assert own_method
    other = await browser(seed, await seed.user("Max"))
    refused = await submit(
        other,
        SETTINGS,
        f"/profile/contact-methods/{own_method.group(1)}/remove",
        {"confirmed": "yes"},
    )
    assert refused.status_code in (403, 404)
    assert own_method.group(1) in (await owner.get(SETTINGS)).text


async def test_the_rules_say_which_channels_this_tocsin_cannot_deliver(seed: Seed) -> None:
    page = await browser(seed, await seed.user("Nia"))
    text = text_of(await page.get(SETTINGS))
    # No Twilio or Slack set up in tests: those rules reach nobody; push and ntfy need none.
    assert "SMS (not set up on this tocsin: reaches nobody yet)" in text
    assert "Web push (not set up" not in text
    assert "ntfy (not set up" not in text


async def test_time_zones_are_offered_where_they_are_typed(seed: Seed) -> None:
    await seed.team("Payments")  # a schedule is created in a team
    page = await browser(seed, await seed.user("Nia", admin=True))
    schedules = (await page.get("/schedules")).text
    assert 'list="time-zones"' in schedules
    assert '<option value="Europe/Berlin">' in schedules
