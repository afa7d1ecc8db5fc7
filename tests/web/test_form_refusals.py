"""A form's refusal is a page that says why, never a 500, and a banner says only what
tocsin itself put there."""

from __future__ import annotations

import re

import httpx

from tests.builders import Seed
from tests.web.support import browser, submit, text_of


async def test_a_duplicate_email_in_the_new_user_form_is_refused_on_the_page(seed: Seed) -> None:
    admin = await browser(seed, await seed.user("Ada", email="ada@example.com", admin=True))
    refused = await submit(
        admin, "/admin/users", "/admin/users", {"email": "ADA@example.com", "name": "Again"}
    )
    assert refused.status_code == 422, refused.text
    assert 'role="alert"' in refused.text
    assert "ada@example.com" in text_of(refused)


async def test_a_duplicate_team_name_is_an_error_banner_not_a_success_one(seed: Seed) -> None:
    await seed.team("Payments")
    admin = await browser(seed, await seed.user("Ada", admin=True))
    refused = await submit(
        admin, "/teams", "/teams", {"name": "Payments", "description": "Card team"}
    )
    # The same form again with what was typed, and the reason in red beside it.
    assert refused.status_code == 422
    alert = re.search(r'<p class="error" role="alert">([^<]*)</p>', refused.text)
    assert alert is not None, refused.text
    assert alert.group(1).startswith("Not created:")
    assert 'role="status"' not in refused.text
    assert 'value="Card team"' in refused.text
    assert 'role="alert"' not in (await admin.get("/teams")).text


async def test_text_in_the_url_is_never_shown_in_tocsins_banner(
    seed: Seed, client: httpx.AsyncClient
) -> None:
    bait = "Your account is locked. Call +1 555 0100 to unlock it."
    signed_out = await client.get("/login", params={"notice": bait})
    assert bait not in signed_out.text
    admin = await browser(seed, await seed.user("Ada", admin=True))
    signed_in = await admin.get("/teams", params={"notice": bait, "error": bait})
    assert bait not in signed_in.text


async def test_a_new_link_lands_on_the_form_not_on_a_422(seed: Seed) -> None:
    await seed.team("Payments")  # a service is created in a team
    admin = await browser(seed, await seed.user("Ada", admin=True))
    for kind in ("services", "teams", "schedules"):
        answered = await admin.get(f"/{kind}/new")
        assert answered.status_code == 303
        assert answered.headers["location"] == f"/{kind}#new"
        assert 'id="new"' in (await admin.get(f"/{kind}")).text
