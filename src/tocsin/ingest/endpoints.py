"""Where a tool sends alerts for an integration: the ready-to-paste URLs of each kind.

Shown once, with the integration key, when an integration is created or its key rotated
(the key cannot be read back afterwards). Every kind accepts ``POST {base}/ingest/{key}``
(a heartbeat's ping too); PagerDuty and Opsgenie clients can instead keep their own URL
shape and pass the key where those services expect their own. A Grafana integration
also gets the contact point's settings as Grafana's form names them
(``grafana_contact_point``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from tocsin.ingest.formats import grafana


@dataclass(frozen=True)
class Endpoint:
    url: str
    description: str
    method: str = "POST"
    headers: Mapping[str, str] = field(default_factory=dict)
    body_fields: Mapping[str, str] = field(default_factory=dict)


def endpoints_for(kind: str, key: str, base_url: str) -> list[Endpoint]:
    """The endpoints an integration of ``kind`` (``IntegrationKind`` value) answers on."""
    base = base_url.rstrip("/")
    found = [
        Endpoint(
            url=f"{base}/ingest/{key}",
            description=(
                "ping this URL at least once per interval"
                if kind == "heartbeat"
                else "send alerts here; the key in the URL names the integration"
            ),
        )
    ]
    if kind == "pagerduty_events_v2":
        found.append(
            Endpoint(
                url=f"{base}/v2/enqueue",
                description="PagerDuty Events API v2: use the key as the routing key",
                body_fields={"routing_key": key},
            )
        )
    elif kind == "opsgenie":
        found.append(
            Endpoint(
                url=f"{base}/v2/alerts",
                description="Opsgenie Alert API: use this as the API URL, the key as API key",
                headers={"Authorization": f"GenieKey {key}"},
            )
        )
    return found


@dataclass(frozen=True)
class Setting:
    """One field of a sender's form: its label there, and the value to enter, or (when
    tocsin cannot show the value) a note saying where it is."""

    label: str
    value: str | None
    note: str = ""


def grafana_contact_point(
    base_url: str, key: str | None, *, key_prefix: str, signed: bool, secret: str | None
) -> list[Setting]:
    """The fields of a Grafana webhook contact point that tocsin checks, nothing else.

    Only ``POST`` reaches the intake, and Grafana's HMAC settings matter only for a signed
    integration: tocsin then refuses a request without the signature, and checks the
    timestamp against its clock (300 s) and against replays. The key and the secret are
    known only when just made (they are stored hashed and encrypted, and shown once);
    otherwise their notes point back to when they were shown.
    """
    base = base_url.rstrip("/")
    fields = [
        Setting("Integration", "Webhook"),
        Setting(
            "URL",
            f"{base}/ingest/{key}" if key else None,
            "" if key else f"{base}/ingest/ and the key ({key_prefix}…) shown when it was made",
        ),
        Setting("HTTP Method", "POST"),
    ]
    if signed:
        fields += [
            Setting(
                "HMAC Signature: Secret",
                secret,
                "" if secret else "the signing secret shown when the integration was created",
            ),
            Setting("HMAC Signature: Header", grafana.SIGNATURE_HEADER),
            Setting("HMAC Signature: Timestamp Header", grafana.SIGNATURE_TIMESTAMP_HEADER),
        ]
    return fields
