"""Setting up a sender from an integration's page: kinds by name, ready-to-paste config
with copy buttons, and a test alert that goes through the intake and pages."""

from __future__ import annotations

import html
import re

import pytest
from fastapi import FastAPI

from tests.builders import Seed
from tests.notify.conftest import sending_engine
from tests.web.support import browser, submit, text_of
from tocsin.actions.actors import system_actor
from tocsin.actions.incidents import queries
from tocsin.clock import FrozenClock
from tocsin.config import Settings
from tocsin.db.models.integrations import IntegrationKind
from tocsin.db.session import Database
from tocsin.domain.access import TeamRole
from tocsin.engine.loop import Engine
from tocsin.ingest import sender_config, test_alerts
from tocsin.ingest.formats import FORMATS
from tocsin.notify import notifier as notify


@pytest.fixture
def engine(app: FastAPI, settings: Settings, database: Database, clock: FrozenClock) -> Engine:
    return sending_engine(app, database, clock, notify.build(settings, database, clock))


@pytest.mark.parametrize("kind", sorted(FORMATS))
def test_every_kind_has_a_test_alert_its_own_format_reads_as_one_trigger(
    kind: str, clock: FrozenClock
) -> None:
    body = test_alerts.body_for(kind, clock.now())
    assert body is not None
    format_ = FORMATS[kind]
    (alert,) = format_.to_alerts(format_.parse(body, {}), received_at=clock.now())
    assert alert.dedup_key == test_alerts.DEDUP_KEY
    assert alert.title == test_alerts.TITLE
    assert alert.action.value == "trigger"


def test_every_kind_has_a_human_name() -> None:
    assert set(sender_config.KIND_NAMES) == {kind.value for kind in IntegrationKind}


async def test_creating_an_alertmanager_integration_shows_its_yaml_with_the_key(
    seed: Seed,
) -> None:
    ada = await seed.user("Ada")
    team = await seed.team("Web", [(ada, TeamRole.ADMIN)])
    service = await seed.service(team, name="frontend")
    page = await browser(seed, ada)
    form = await page.get("/integrations/new")
    assert ">Prometheus Alertmanager</option>" in form.text
    created = await submit(
        page,
        "/integrations/new",
        "/integrations",
        {"service_id": str(service.id), "name": "Prom", "kind": "alertmanager"},
    )
    key = re.search(r'id="integration-key">(tik_[^<]+)<', created.text)
    assert key
    yaml = html.unescape(created.text)
    assert "    webhook_configs:\n" in yaml
    assert f"      - url: 'https://tocsin.test/ingest/{key.group(1)}'\n" in yaml
    assert '<pre class="copyable" tabindex="0">' in created.text
    assert '<script src="/static/copy.js" defer></script>' in created.text
    listed = text_of(await page.get("/integrations"))
    assert "Prometheus Alertmanager" in listed
    assert "alertmanager" not in listed.replace("Alertmanager", "")


@pytest.mark.parametrize(
    ("kind", "expected"),
    [
        (
            "pagerduty_events_v2",
            ["https://tocsin.test/v2/enqueue", '"routing_key": "<integration key'],
        ),
        ("opsgenie", ["https://tocsin.test/v2/alerts", "Authorization: GenieKey <integration key"]),
        ("generic", ["curl -fsS -X POST 'https://tocsin.test/ingest/<integration key"]),
        ("grafana", ["Grafana contact point", "https://tocsin.test/ingest/ and the key"]),
    ],
)
async def test_the_page_shows_each_kinds_config_with_a_placeholder_for_the_key(
    seed: Seed, kind: str, expected: list[str]
) -> None:
    ada = await seed.user("Ada")
    team = await seed.team("Web", [(ada, TeamRole.ADMIN)])
    integration, key = await seed.integration(await seed.service(team), kind=kind)
    detail = await (await browser(seed, ada)).get(f"/integrations/{integration.id}")
    shown = html.unescape(detail.text)
    assert sender_config.kind_name(kind) in shown
    for fragment in expected:
        assert fragment in shown
    assert key not in shown
    assert integration.key_prefix in shown


async def test_copy_script_uses_the_clipboard_and_falls_back_to_selecting(seed: Seed) -> None:
    script = await (await browser(seed, await seed.user("Ada"))).get("/static/copy.js")
    assert script.status_code == 200
    assert "navigator.clipboard.writeText" in script.text
    assert "selectNodeContents" in script.text


async def test_a_test_alert_opens_an_incident_that_pages_and_a_second_joins_it(
    seed: Seed, engine: Engine
) -> None:
    ada = await seed.user("Ada")
    team = await seed.team("Web", [(ada, TeamRole.ADMIN)])
    policy = await seed.policy(team, [(5, [ada])])
    service = await seed.service(team, policy, name="frontend")
    integration, _ = await seed.integration(service, kind="alertmanager")
    page = await browser(seed, ada)
    path = f"/integrations/{integration.id}"
    sent = await submit(page, path, f"{path}/test-alert")
    assert sent.status_code == 303
    shown = await page.get(sent.headers["location"])
    text = text_of(shown)
    assert "Test alert sent: it opened incident #1" in text
    assert '<a href="/incidents/number/1">#1</a>' in shown.text
    await engine.tick()
    async with seed.database.transaction() as session:
        incident = await queries.find_by_number(session, actor=system_actor("t"), number=1)
        assert incident.service_id == service.id
        assert incident.title == test_alerts.TITLE
        pages = await queries.pages_of(session, incident.id)
        assert [paged.user_id for paged in pages] == [ada.id]
    again = await submit(page, path, f"{path}/test-alert")
    assert "joined the open incident #1" in text_of(await page.get(again.headers["location"]))


async def test_a_test_alert_is_refused_plainly_for_a_disabled_integration_and_a_responder(
    seed: Seed,
) -> None:
    ada = await seed.user("Ada")
    rob = await seed.user("Rob")
    team = await seed.team("Web", [(ada, TeamRole.ADMIN), (rob, TeamRole.RESPONDER)])
    integration, _ = await seed.integration(await seed.service(team))
    path = f"/integrations/{integration.id}"
    responder = await browser(seed, rob)
    assert "Send a test alert" not in (await responder.get(path)).text
    forbidden = await submit(responder, path, f"{path}/test-alert")
    assert forbidden.status_code == 403
    admin = await browser(seed, ada)
    await submit(admin, path, path, {"name": integration.name})  # unticked: disabled
    refused = await submit(admin, path, f"{path}/test-alert")
    assert "No test alert sent: the integration is disabled" in text_of(
        await admin.get(refused.headers["location"])
    )


async def test_a_refused_rename_is_said_in_red(seed: Seed) -> None:
    ada = await seed.user("Ada")
    team = await seed.team("Web", [(ada, TeamRole.ADMIN)])
    service = await seed.service(team)
    await seed.integration(service, name="Taken")
    integration, _ = await seed.integration(service, name="Mine")
    page = await browser(seed, ada)
    path = f"/integrations/{integration.id}"
    refused = await submit(page, path, path, {"name": "taken", "is_enabled": "on"})
    shown = await page.get(refused.headers["location"])
    assert re.search(r'<p class="error" role="alert">Not saved: ', shown.text)
    assert 'role="status"' not in shown.text
