"""Where a tool sends alerts for an integration: the ready-to-paste URLs of each kind.

Shown once, with the integration key, when an integration is created or its key rotated
(the key cannot be read back afterwards). Every kind accepts ``POST {base}/ingest/{key}``
(a heartbeat's ping too); PagerDuty and Opsgenie clients can instead keep their own URL
shape and pass the key where those services expect their own.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field


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
