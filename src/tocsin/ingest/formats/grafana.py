"""Grafana Alerting (unified alerting) webhook contact point, message version 1.

Source: Grafana's webhook notifier (grafana/alerting ``receivers/webhook/v1``); protocols.md
§1.3. The body is Alertmanager's message plus Grafana's extras, so the mapping is
``alertmanager.alert_of`` with Grafana's links and details added.

Identity: ``alerts[].fingerprint``, as for Alertmanager. ``groupKey`` → ``details``.

Resolves: an alert whose own ``status`` is ``resolved``. Grafana's top-level ``state``
(``alerting``/``ok``), ``title`` and ``message`` are documented as going away and are
only kept in the raw body.

Signature (optional, ``verify``): Grafana signs with a shared secret as lowercase hex
HMAC-SHA256, in ``X-Grafana-Alerting-Signature`` by default. With a timestamp header
configured (Unix seconds) the signed text is ``{timestamp}:{body}`` and tocsin refuses a
timestamp more than ``TOLERANCE`` away from ``now``; without one only the body is signed,
which proves the sender but cannot stop a replay. Configure the timestamp header.

Grafana has no default name for the timestamp header: the contact point's form leaves it
empty, and people paste the name from Grafana's documentation, whose examples use both
``X-Grafana-Alerting-Timestamp`` and ``X-Grafana-Alerting-Signature-Timestamp``. tocsin
reads either (``TIMESTAMP_HEADERS``). A signature made over a timestamp that arrived under
another name cannot match the body alone; rather than the bare "does not match", the
refusal then names the header that carried it, or says that no timestamp header arrived.

Quirks: an unresolved ``endsAt`` is ``0001-01-01T00:00:00Z`` (Go's zero time, read as no
time); the "Test" button of a contact point sends a real-looking firing alert
(``alertname: TestAlert``), which pages like any other so the path is proven end to end.

Mapping, beyond Alertmanager's table:

    links    silenceURL ("Silence"), dashboardURL ("Dashboard"), panelURL ("Panel"),
             imageURL ("Image"); generatorURL is "Source" as in Alertmanager
    details  values, value_string, org_id
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from tocsin.domain.alerts import InboundAlert, Link
from tocsin.ingest import headers as header
from tocsin.ingest import signatures
from tocsin.ingest.errors import SignatureInvalid, SignatureMissing
from tocsin.ingest.formats.alertmanager import AmAlert, AmMessage, alert_of, check_alerts
from tocsin.ingest.formats.base import validate
from tocsin.ingest.json_body import load_json

SIGNATURE_HEADER = "X-Grafana-Alerting-Signature"
TIMESTAMP_HEADER = "X-Grafana-Alerting-Timestamp"
SIGNATURE_TIMESTAMP_HEADER = "X-Grafana-Alerting-Signature-Timestamp"
TIMESTAMP_HEADERS = (TIMESTAMP_HEADER, SIGNATURE_TIMESTAMP_HEADER)
TOLERANCE = timedelta(seconds=300)


class GrafanaAlert(AmAlert):
    values: dict[str, Any] | None = None
    valueString: str | None = None
    silenceURL: str | None = None
    dashboardURL: str | None = None
    panelURL: str | None = None
    imageURL: str | None = None


class GrafanaMessage(AmMessage[GrafanaAlert]):
    orgId: int | None = None
    title: str | None = None
    state: str | None = None
    message: str | None = None


def verify_signature(
    headers: Mapping[str, str],
    body: bytes,
    secret: str,
    now: datetime,
    *,
    tolerance: timedelta = TOLERANCE,
) -> str | None:
    """Check Grafana's HMAC; return a replay id only when a timestamp is signed.

    The replay id is the signature itself: unique per (timestamp, body), so the pipeline
    can refuse a captured request sent again inside the window. Without a timestamp the
    same alert legitimately produces the same signature on every repeat notification, so
    no replay id is returned and repeats are left to dedup.
    """
    given = header.get(headers, SIGNATURE_HEADER)
    if not given:
        raise SignatureMissing(f"send the {SIGNATURE_HEADER} header")
    name, stamp = _timestamp(headers)
    # Bytes, not str: compare_digest refuses non-ASCII text, and a header may carry any.
    presented = given.strip().lower().encode()
    expected = _digest(secret, body, stamp)
    if not hmac.compare_digest(expected.encode(), presented):
        raise SignatureInvalid(_mismatch(headers, body, secret, presented, name))
    if stamp is None:
        return None
    signatures.within_tolerance(signatures.unix_seconds(stamp, name), now, tolerance, name)
    return expected


def _timestamp(headers: Mapping[str, str]) -> tuple[str, str | None]:
    """The timestamp header that arrived (its name, its value), the first of
    ``TIMESTAMP_HEADERS``; the default name and ``None`` when none did."""
    for name in TIMESTAMP_HEADERS:
        value = header.get(headers, name)
        if value is not None:
            return name, value
    return TIMESTAMP_HEADER, None


def _digest(secret: str, body: bytes, stamp: str | None) -> str:
    signed = f"{stamp}:".encode() + body if stamp else body
    return hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()


def _mismatch(
    headers: Mapping[str, str], body: bytes, secret: str, presented: bytes, name: str
) -> str:
    """Why a signature does not match, as precisely as the request shows.

    With no known timestamp header, the signature may still be right over a timestamp the
    contact point sent under a name tocsin does not read: each header holding Unix seconds
    is tried, so the answer can name it. Only a sender holding the secret can produce such
    a match, so naming the header tells an attacker nothing.
    """
    if header.get(headers, name) is not None:
        return f"{SIGNATURE_HEADER} does not match {name} and the body"
    for other, value in headers.items():
        stamp = value.strip()
        if not (stamp.isascii() and stamp.isdigit() and 9 <= len(stamp) <= 12):
            continue
        if hmac.compare_digest(_digest(secret, body, stamp).encode(), presented):
            return (
                f"the signature was made over the timestamp in {other}, a header tocsin "
                f"does not read: set the contact point's timestamp header to {TIMESTAMP_HEADER}"
            )
    accepted = " or ".join(TIMESTAMP_HEADERS)
    return (
        f"{SIGNATURE_HEADER} does not match the body, and no timestamp header ({accepted}) "
        "arrived: if the contact point sets a timestamp header, give it one of these names "
        "(or check that a proxy does not drop it); otherwise the secret differs"
    )


def _extras(alert: GrafanaAlert) -> list[Link]:
    named = [
        (alert.silenceURL, "Silence"),
        (alert.dashboardURL, "Dashboard"),
        (alert.panelURL, "Panel"),
        (alert.imageURL, "Image"),
    ]
    return [Link(href, text) for href, text in named if href]


class Grafana:
    name = "grafana"

    def parse(self, body: bytes, headers: Mapping[str, str]) -> GrafanaMessage:
        message = validate(GrafanaMessage, load_json(body))
        check_alerts(message)
        return message

    def to_alerts(self, payload: GrafanaMessage, *, received_at: datetime) -> list[InboundAlert]:
        alerts = []
        for index, alert in enumerate(payload.alerts):
            details: dict[str, Any] = {"org_id": payload.orgId}
            if alert.values is not None:
                details["values"] = alert.values
            if alert.valueString:
                details["value_string"] = alert.valueString
            alerts.append(alert_of(payload, alert, index, links=_extras(alert), details=details))
        return alerts

    def verify(
        self, headers: Mapping[str, str], body: bytes, secret: str, now: datetime
    ) -> str | None:
        return verify_signature(headers, body, secret, now)
