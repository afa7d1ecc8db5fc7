"""Integration pages: the key and URLs shown once, rotation, settings, who may manage."""

from __future__ import annotations

import hashlib
import hmac
import html
import re

import httpx

from tests.builders import Seed
from tests.scenarios.support import EXAMPLES
from tests.web.support import browser, submit, submit_confirmed, text_of
from tocsin.clock import FrozenClock
from tocsin.domain.access import TeamRole


async def test_creating_shows_the_key_and_urls_once_and_the_key_works(
    client: httpx.AsyncClient, seed: Seed
) -> None:
    ada = await seed.user("Ada")
    team = await seed.team("Web", [(ada, TeamRole.ADMIN)])
    service = await seed.service(team, name="frontend")
    page = await browser(seed, ada)
    form = await page.get(f"/integrations/new?service_id={service.id}")
    assert f'<option value="{service.id}" selected>' in form.text
    created = await submit(
        page,
        "/integrations/new",
        "/integrations",
        {"service_id": str(service.id), "name": "Prometheus", "kind": "generic"},
    )
    assert created.status_code == 200, created.text
    assert created.headers["cache-control"] == "no-store"
    key = re.search(r'<code class="secret" id="integration-key">(tik_[^<]+)</code>', created.text)
    assert key
    assert f"POST https://tocsin.test/ingest/{key.group(1)}" in text_of(created)
    sent = await client.post(f"/ingest/{key.group(1)}", json={"title": "up", "dedup_key": "u"})
    assert sent.status_code == 202
    detail_path = re.search(r'href="(/integrations/[0-9a-f-]+)"', created.text)
    assert detail_path
    detail = await page.get(detail_path.group(1))
    assert key.group(1) not in detail.text
    assert key.group(1)[:10] in detail.text  # the display prefix only
    assert "Prometheus" in text_of(await page.get("/integrations"))


async def test_a_pagerduty_integration_shows_its_own_url_and_a_signing_secret_once(
    seed: Seed,
) -> None:
    ada = await seed.user("Ada")
    team = await seed.team("Web", [(ada, TeamRole.ADMIN)])
    service = await seed.service(team, name="frontend")
    page = await browser(seed, ada)
    created = await submit(
        page,
        "/integrations/new",
        "/integrations",
        {"service_id": str(service.id), "name": "PD", "kind": "pagerduty_events_v2"},
    )
    assert "POST https://tocsin.test/v2/enqueue" in text_of(created)
    assert "Body field routing_key" in text_of(created)
    signed = await submit(
        page,
        "/integrations/new",
        "/integrations",
        {"service_id": str(service.id), "name": "Hooks", "kind": "generic", "signing": "on"},
    )
    assert 'id="signing-secret"' in signed.text


async def test_rotating_shows_a_new_key_and_the_old_one_stops(
    client: httpx.AsyncClient, seed: Seed
) -> None:
    ada = await seed.user("Ada")
    team = await seed.team("Web", [(ada, TeamRole.ADMIN)])
    integration, old_key = await seed.integration(await seed.service(team, name="frontend"))
    page = await browser(seed, ada)
    path = f"/integrations/{integration.id}"
    rotated = await submit(page, path, f"{path}/rotate-key")
    assert rotated.status_code == 200
    new_key = re.search(r'id="integration-key">(tik_[^<]+)<', rotated.text)
    assert new_key
    assert new_key.group(1) != old_key
    assert "The old key stopped working." in text_of(rotated)
    body = {"title": "t", "dedup_key": "k"}
    assert (await client.post(f"/ingest/{old_key}", json=body)).status_code != 202
    assert (await client.post(f"/ingest/{new_key.group(1)}", json=body)).status_code == 202


async def test_renaming_disabling_and_deleting(client: httpx.AsyncClient, seed: Seed) -> None:
    ada = await seed.user("Ada")
    team = await seed.team("Web", [(ada, TeamRole.ADMIN)])
    integration, key = await seed.integration(await seed.service(team, name="frontend"))
    page = await browser(seed, ada)
    path = f"/integrations/{integration.id}"
    saved = await submit(page, path, path, {"name": "Renamed"})  # the box unticked: disabled
    assert saved.status_code == 303
    text = text_of(await page.get(path))
    assert "Renamed" in text
    assert "disabled: its key is refused" in text
    assert (await client.post(f"/ingest/{key}", json={"title": "t"})).status_code != 202
    deleted = await submit_confirmed(page, path, f"{path}/delete")
    assert deleted.status_code == 303
    assert (await page.get(path)).status_code == 404


async def test_people_who_do_not_manage_the_service_get_no_forms_and_are_refused(
    seed: Seed,
) -> None:
    rob = await seed.user("Rob")
    team = await seed.team("Web", [(rob, TeamRole.RESPONDER)])
    service = await seed.service(team, name="frontend")
    integration, _ = await seed.integration(service)
    page = await browser(seed, rob)
    assert "You manage no service" in text_of(await page.get("/integrations/new"))
    detail = await page.get(f"/integrations/{integration.id}")
    assert "Rotate key" not in detail.text
    refused = await submit(
        page,
        f"/integrations/{integration.id}",
        "/integrations",
        {"service_id": str(service.id), "name": "Mine", "kind": "generic"},
    )
    assert refused.status_code == 403
    rotation = await submit(
        page, f"/integrations/{integration.id}", f"/integrations/{integration.id}/rotate-key"
    )
    assert rotation.status_code == 403


async def test_a_heartbeat_without_an_interval_is_refused_beside_the_form(seed: Seed) -> None:
    ada = await seed.user("Ada")
    team = await seed.team("Web", [(ada, TeamRole.ADMIN)])
    service = await seed.service(team, name="frontend")
    page = await browser(seed, ada)
    refused = await submit(
        page,
        "/integrations/new",
        "/integrations",
        {"service_id": str(service.id), "name": "Cron", "kind": "heartbeat"},
    )
    assert refused.status_code == 422
    assert "Not saved: a heartbeat needs an interval." in text_of(refused)
    assert "Create integration" in refused.text


def contact_point(page: httpx.Response) -> dict[str, str]:
    """The Grafana contact point shown on ``page``: label → value (or the note)."""
    listed = re.search(r'<dl id="grafana-contact-point">(.*?)</dl>', page.text, re.DOTALL)
    assert listed, page.text
    pairs = re.findall(r"<dt>(.*?)</dt>\s*<dd>(.*?)</dd>", listed.group(1), re.DOTALL)
    return {label: html.unescape(re.sub(r"<[^>]+>", "", value)) for label, value in pairs}


async def test_a_signed_grafana_integration_shows_the_contact_point_that_tocsin_accepts(
    client: httpx.AsyncClient, seed: Seed, clock: FrozenClock
) -> None:
    ada = await seed.user("Ada")
    team = await seed.team("Web", [(ada, TeamRole.ADMIN)])
    service = await seed.service(team, name="frontend")
    page = await browser(seed, ada)
    created = await submit(
        page,
        "/integrations/new",
        "/integrations",
        {"service_id": str(service.id), "name": "Grafana", "kind": "grafana", "signing": "on"},
    )
    key = re.search(r'id="integration-key">(tik_[^<]+)<', created.text)
    secret = re.search(r'id="signing-secret">([^<]+)<', created.text)
    assert key
    assert secret
    shown = contact_point(created)
    assert shown == {
        "Integration": "Webhook",
        "URL": f"https://tocsin.test/ingest/{key.group(1)}",
        "HTTP Method": "POST",
        "HMAC Signature: Secret": secret.group(1),
        "HMAC Signature: Header": "X-Grafana-Alerting-Signature",
        "HMAC Signature: Timestamp Header": "X-Grafana-Alerting-Signature-Timestamp",
    }

    # Sent as Grafana sends with exactly those settings, an alert is accepted; unsigned,
    # it is refused, so each HMAC setting shown is one tocsin checks.
    body = (EXAMPLES / "grafana" / "firing.json").read_bytes()
    stamp = str(int(clock.now().timestamp()))
    signature = hmac.new(
        shown["HMAC Signature: Secret"].encode(), f"{stamp}:".encode() + body, hashlib.sha256
    ).hexdigest()
    url = shown["URL"].removeprefix("https://tocsin.test")
    headers = {"Content-Type": "application/json"}
    unsigned = await client.post(url, content=body, headers=headers)
    assert unsigned.status_code == 401, unsigned.text
    signed = await client.post(
        url,
        content=body,
        headers={
            **headers,
            shown["HMAC Signature: Header"]: signature,
            shown["HMAC Signature: Timestamp Header"]: stamp,
        },
    )
    assert signed.status_code == 202, signed.text

    # Later the key and secret cannot be shown again; the page says where they were.
    detail_path = re.search(r'href="(/integrations/[0-9a-f-]+)"', created.text)
    assert detail_path
    later = contact_point(await page.get(detail_path.group(1)))
    assert secret.group(1) not in later.values()
    assert later["URL"] == (
        f"https://tocsin.test/ingest/ and the key ({key.group(1)[:10]}…) shown when it was made"
    )
    assert later["HMAC Signature: Secret"] == (
        "the signing secret shown when the integration was created"
    )
    assert later["HMAC Signature: Timestamp Header"] == "X-Grafana-Alerting-Signature-Timestamp"


async def test_an_unsigned_grafana_integration_shows_no_hmac_settings(seed: Seed) -> None:
    ada = await seed.user("Ada")
    team = await seed.team("Web", [(ada, TeamRole.ADMIN)])
    integration, _ = await seed.integration(await seed.service(team), "grafana")
    page = await browser(seed, ada)
    detail = await page.get(f"/integrations/{integration.id}")
    assert list(contact_point(detail)) == ["Integration", "URL", "HTTP Method"]
    assert "tocsin checks no HMAC signature" in text_of(detail)


async def test_other_kinds_show_no_grafana_contact_point(seed: Seed) -> None:
    ada = await seed.user("Ada")
    team = await seed.team("Web", [(ada, TeamRole.ADMIN)])
    integration, _ = await seed.integration(await seed.service(team), "alertmanager")
    page = await browser(seed, ada)
    assert "grafana-contact-point" not in (await page.get(f"/integrations/{integration.id}")).text
