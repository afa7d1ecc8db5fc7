"""Destructive form posts ask first, with no JavaScript needed: the first post changes
nothing and answers a page asking the question; only the confirmed post acts."""

from __future__ import annotations

import re

from tests.builders import Seed
from tests.web.support import browser, post_form, submit, submit_confirmed, text_of
from tocsin.domain.access import Scope, TeamRole


async def test_deleting_a_service_asks_first_and_changes_nothing_until_confirmed(
    seed: Seed,
) -> None:
    ada = await seed.user("Ada")
    team = await seed.team("Storage", [(ada, TeamRole.ADMIN)])
    service = await seed.service(team, name="blob-store")
    page = await browser(seed, ada)
    path = f"/services/{service.id}"

    asked = await post_form(page, path, f"{path}/delete")

    assert asked.status_code == 200
    shown = text_of(asked)
    assert "Are you sure?" in shown
    assert "Delete service blob-store? Its integrations stop accepting alerts." in shown
    assert f'<a href="{path}">Cancel</a>' in asked.text
    assert (await page.get(path)).status_code == 200  # still there

    deleted = await submit_confirmed(page, path, f"{path}/delete")

    assert deleted.status_code == 303
    assert (await page.get(path)).status_code == 404


async def test_removing_a_team_member_asks_first_but_changing_a_role_does_not(
    seed: Seed,
) -> None:
    ada = await seed.user("Ada")
    rob = await seed.user("Rob")
    team = await seed.team("Storage", [(ada, TeamRole.ADMIN), (rob, TeamRole.RESPONDER)])
    page = await browser(seed, ada)
    path = f"/teams/{team.id}"
    member = f"{path}/members/{rob.id}"

    changed = await submit(page, path, member, {"role": "observer"})
    assert changed.status_code == 303
    assert "Role changed." in text_of(await page.get(path))

    asked = await post_form(page, path, member, {"remove": "yes"})
    assert "Remove Rob from Storage? They stop being paged through this team." in text_of(asked)
    assert "Rob" in text_of(await page.get(path))

    removed = await submit_confirmed(page, path, member, {"remove": "yes"})
    assert removed.status_code == 303
    assert "Member removed." in text_of(await page.get(path))


async def test_revoking_an_api_key_asks_first(seed: Seed) -> None:
    root = await browser(seed, await seed.user("Root", admin=True))
    await seed.api_key(Scope.INCIDENTS_READ, name="deploy bot")
    listed = await root.get("/admin/api-keys")
    action = re.search(r'action="(/admin/api-keys/[0-9a-f-]+/revoke)"', listed.text)
    assert action

    asked = await post_form(root, "/admin/api-keys", action.group(1))
    assert "Revoke the API key deploy bot?" in text_of(asked)

    revoked = await submit_confirmed(root, "/admin/api-keys", action.group(1))
    assert revoked.status_code == 303
    assert "Revoked deploy bot." in text_of(await root.get("/admin/api-keys"))


async def test_a_forged_confirmation_without_the_csrf_token_is_refused(seed: Seed) -> None:
    ada = await seed.user("Ada")
    team = await seed.team("Storage", [(ada, TeamRole.ADMIN)])
    service = await seed.service(team, name="blob-store")
    page = await browser(seed, ada)

    forged = await page.post(
        f"/services/{service.id}/delete",
        data={"confirmed": "yes", "confirm_question": "Win a prize?"},
    )

    assert forged.status_code == 403
    assert "Win a prize?" not in forged.text
    assert (await page.get(f"/services/{service.id}")).status_code == 200
