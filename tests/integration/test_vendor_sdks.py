"""The vendors' own SDKs against a live tocsin over HTTPS, as a migrating user's code runs.

A user leaving PagerDuty or Opsgenie changes one thing in their code, the base URL; the
SDKs then speak to tocsin exactly as they spoke to the vendor. PagerDuty's SDK refuses any
URL but ``https://``, so tocsin serves HTTPS itself here (``serve --tls-cert/--tls-key``)
with a certificate from a throwaway CA that the SDKs are told to trust.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import opsgenie_sdk
import pagerduty
import pytest
import trustme
from opsgenie_sdk.exceptions import AuthenticationException

from tests.builders import Seed
from tests.live_server import LiveServer, Tls, running_tocsin
from tocsin.domain.access import Scope

pytestmark = pytest.mark.slow


@dataclass(frozen=True)
class Seeded:
    """An integration of one kind on a fresh service, and an API key to read incidents."""

    integration_key: str
    service_id: uuid.UUID
    api_key: str


@pytest.fixture(scope="module")
def tls(tmp_path_factory: pytest.TempPathFactory) -> Tls:
    ca = trustme.CA()
    issued = ca.issue_cert("127.0.0.1", "localhost")
    folder = tmp_path_factory.mktemp("tls")
    tls = Tls(cert=folder / "cert.pem", key=folder / "key.pem", ca=folder / "ca.pem")
    issued.cert_chain_pems[0].write_to_path(str(tls.cert))
    issued.private_key_pem.write_to_path(str(tls.key))
    ca.cert_pem.write_to_path(str(tls.ca))
    return tls


@pytest.fixture
def server(database_url: str, tmp_path: Path, tls: Tls) -> Iterator[LiveServer]:
    """``tocsin serve`` over HTTPS on the test's database, the one ``seed`` writes to."""
    with running_tocsin(database_url, tmp_path / "served", tls=tls) as live:
        yield live


async def _seeded(seed: Seed, kind: str) -> Seeded:
    team = await seed.team("Payments")
    service = await seed.service(team, name="checkout")
    _, key = await seed.integration(service, kind)
    return Seeded(key, service.id, await seed.api_key(Scope.INCIDENTS_READ))


@pytest.fixture
async def pagerduty_integration(seed: Seed) -> Seeded:
    return await _seeded(seed, "pagerduty_events_v2")


@pytest.fixture
async def opsgenie_integration(seed: Seed) -> Seeded:
    return await _seeded(seed, "opsgenie")


def incidents(server: LiveServer, tls: Tls, seeded: Seeded) -> list[dict[str, Any]]:
    """The service's incidents, read back through tocsin's own API."""
    response = httpx.get(
        f"{server.base_url}/api/v1/incidents",
        params={"service_id": str(seeded.service_id)},
        headers={"Authorization": f"Bearer {seeded.api_key}"},
        verify=tls.trusted(),
    )
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


def test_pagerduty_sdk_triggers_acknowledges_and_resolves_over_https(
    server: LiveServer, tls: Tls, pagerduty_integration: Seeded
) -> None:
    key = pagerduty_integration.integration_key
    with pytest.raises(pagerduty.UrlError):
        pagerduty.EventsApiV2Client(key, base_url=server.base_url.replace("https:", "http:"))
    with pagerduty.EventsApiV2Client(key, base_url=server.base_url, verify=tls.trusted()) as events:
        dedup_key = events.trigger(
            "Disk full on db-1", "db-1", dedup_key="disk-db-1", severity="error"
        )
        assert dedup_key == "disk-db-1"
        [incident] = incidents(server, tls, pagerduty_integration)
        assert (incident["title"], incident["status"]) == ("Disk full on db-1", "triggered")

        events.acknowledge(dedup_key)
        [incident] = incidents(server, tls, pagerduty_integration)
        assert incident["status"] == "acknowledged"

        events.resolve(dedup_key)
        [incident] = incidents(server, tls, pagerduty_integration)
        assert incident["status"] == "resolved"


def opsgenie_alerts(server: LiveServer, tls: Tls, genie_key: str) -> opsgenie_sdk.AlertApi:
    configuration = opsgenie_sdk.Configuration()
    configuration.host = server.base_url
    configuration.api_key["Authorization"] = genie_key
    configuration.ssl_ca_cert = str(tls.ca)
    # The SDK retries refusals (a 401 included) for up to a minute by default; a test
    # wants the first answer.
    configuration.retry_enabled = False
    client = opsgenie_sdk.ApiClient(configuration)
    # The SDK never hands its connection back to its pool, so nothing can close it; left
    # open, the idle TLS connection holds the server's shutdown until the TLS close times
    # out (30 s). One connection per request instead.
    client.set_default_header("Connection", "close")
    return opsgenie_sdk.AlertApi(client)


def test_opsgenie_sdk_creates_an_alert_and_reads_its_request_status_over_https(
    server: LiveServer, tls: Tls, opsgenie_integration: Seeded
) -> None:
    alerts = opsgenie_alerts(server, tls, opsgenie_integration.integration_key)
    accepted = alerts.create_alert(
        opsgenie_sdk.CreateAlertPayload(message="Disk full on db-1", alias="disk-db-1")
    )
    assert accepted.result == "Request will be processed"
    status = alerts.get_request_status(accepted.request_id).data
    assert status.is_success
    assert (status.action, status.status, status.alias) == ("Create", "Created alert", "disk-db-1")
    [incident] = incidents(server, tls, opsgenie_integration)
    assert (incident["title"], incident["status"]) == ("Disk full on db-1", "triggered")


def test_opsgenie_sdk_reports_an_unknown_genie_key_as_an_authentication_error(
    server: LiveServer, tls: Tls, opsgenie_integration: Seeded
) -> None:
    alerts = opsgenie_alerts(server, tls, "not-a-key-tocsin-issued")
    with pytest.raises(AuthenticationException) as refused:
        alerts.create_alert(opsgenie_sdk.CreateAlertPayload(message="Disk full on db-1"))
    assert refused.value.status == 401
    assert incidents(server, tls, opsgenie_integration) == []
