"""The local outbox: a stored mail's links can be followed, and its HTML cannot act."""

from __future__ import annotations

import uuid

from tests.builders import Seed
from tests.web.support import browser
from tocsin.clock import FrozenClock
from tocsin.db.models.deliveries import OutboxMessage

ACK = "http://tocsin.test/a/one-time-token"
TEXT = f"Incident #7 needs you.\nAcknowledge: {ACK}.\nDetails <b>bold</b> (http://tocsin.test/incidents/7)"
HTML = f'<p>Incident #7</p><a href="{ACK}">Acknowledge</a><script>alert(1)</script>'


async def stored_mail(seed: Seed, clock: FrozenClock) -> uuid.UUID:
    async with seed.database.transaction() as session:
        message = OutboxMessage(
            message_id="<page-7@tocsin.test>",
            recipient="ada@example.com",
            subject="[tocsin] Incident #7",
            text_body=TEXT,
            html_body=HTML,
            raw="",
            created_at=clock.now(),
        )
        session.add(message)
        await session.flush()
        return message.id


async def test_the_text_part_links_its_urls_and_escapes_the_rest(
    seed: Seed, clock: FrozenClock
) -> None:
    admin = await browser(seed, await seed.user("Root", admin=True))
    message_id = await stored_mail(seed, clock)

    page = await admin.get(f"/outbox/{message_id}")

    assert page.status_code == 200
    # The sentence's full stop and the bracket are not part of the links.
    assert f'<a href="{ACK}">{ACK}</a>.' in page.text
    assert '(<a href="http://tocsin.test/incidents/7">' in page.text
    assert "&lt;b&gt;bold&lt;/b&gt;" in page.text
    assert "<iframe" not in page.text
    assert f'href="/outbox/{message_id}/html"' in page.text
    assert "stored in tocsin's local outbox" in page.text


async def test_the_html_part_is_its_own_page_whose_links_work_and_whose_scripts_do_not(
    seed: Seed, clock: FrozenClock
) -> None:
    admin = await browser(seed, await seed.user("Root", admin=True))
    message_id = await stored_mail(seed, clock)

    page = await admin.get(f"/outbox/{message_id}/html")

    assert page.status_code == 200
    assert page.text == HTML
    policy = page.headers["content-security-policy"]
    assert "default-src 'none'" in policy  # the script does not run
    assert "form-action 'none'" in policy
    # Sandboxed without allow-same-origin (no cookie, no call as the admin), but a link
    # may still be followed.
    assert "sandbox allow-popups" in policy
    assert "allow-same-origin" not in policy
    assert "allow-top-navigation" in policy


async def test_only_platform_admins_read_the_outbox(seed: Seed, clock: FrozenClock) -> None:
    someone = await browser(seed, await seed.user("Ada"))
    message_id = await stored_mail(seed, clock)

    for path in (f"/outbox/{message_id}", f"/outbox/{message_id}/html"):
        answer = await someone.get(path)
        assert answer.status_code == 403, path
    missing = await (await browser(seed, await seed.user("Root", admin=True))).get(
        f"/outbox/{uuid.uuid4()}/html"
    )
    assert missing.status_code == 404
