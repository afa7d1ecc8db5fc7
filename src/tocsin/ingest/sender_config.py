"""What to paste into the sending tool, for each kind of integration.

The integration page shows, for its kind, the configuration as that tool writes it
(Alertmanager's ``webhook_configs`` YAML, PagerDuty's Events API URL and routing key,
Opsgenie's API URL and key, a curl command for tocsin's own JSON), so setting up a sender
is a copy and a paste, never a reading of the docs. The key is known only when it was just
issued (it is stored as a digest); otherwise ``key_placeholder`` stands in its place and
says which key goes there.
"""

from __future__ import annotations

import json
import shlex
from dataclasses import dataclass

# The names people know the senders by, in the order the "new integration" form offers them.
KIND_NAMES: dict[str, str] = {
    "alertmanager": "Prometheus Alertmanager",
    "grafana": "Grafana Alerting",
    "pagerduty_events_v2": "PagerDuty Events API v2 (compatible)",
    "opsgenie": "Opsgenie Alert API (compatible)",
    "datadog": "Datadog webhook",
    "newrelic": "New Relic workflow webhook",
    "generic": "Generic JSON (scripts, curl)",
    "heartbeat": "Heartbeat (alert when pings stop)",
}


def kind_name(kind: str) -> str:
    """``Prometheus Alertmanager`` for ``alertmanager``; an unknown kind as it is."""
    return KIND_NAMES.get(kind, kind)


@dataclass(frozen=True)
class Snippet:
    """One block to copy: a heading, the text itself, and where it goes."""

    title: str
    text: str
    hint: str


def key_placeholder(key_prefix: str) -> str:
    return f"<integration key {key_prefix}…>"


def snippets(kind: str, base_url: str, key: str) -> list[Snippet]:
    """The configuration for a sender of ``kind``, with ``key`` (or a placeholder) in it."""
    base = base_url.rstrip("/")
    url = f"{base}/ingest/{key}"
    if kind == "alertmanager":
        return [
            Snippet(
                "alertmanager.yml",
                "receivers:\n"
                "  - name: tocsin\n"
                "    webhook_configs:\n"
                f"      - url: '{url}'\n"
                "        send_resolved: true\n"
                "route:\n"
                "  receiver: tocsin\n",
                "Add the receiver to Alertmanager's configuration (or point an existing "
                "route at it) and reload Alertmanager. Resolved alerts resolve the incident.",
            )
        ]
    if kind == "grafana":
        # The contact point's fields, each with its own Copy button, are shown beside
        # (``endpoints.grafana_contact_point``): Grafana's form asks for them one by one.
        return []
    if kind == "pagerduty_events_v2":
        return [
            Snippet(
                "Events API URL",
                f"{base}/v2/enqueue",
                "Where a PagerDuty client sends events (in place of "
                "https://events.pagerduty.com/v2/enqueue).",
            ),
            Snippet("Routing key (integration key)", key, "The routing key of every event."),
            _curl(
                f"{base}/v2/enqueue",
                {},
                {
                    "routing_key": key,
                    "event_action": "trigger",
                    "dedup_key": "example",
                    "payload": {
                        "summary": "Example alert from curl",
                        "source": "my-host",
                        "severity": "critical",
                    },
                },
            ),
        ]
    if kind == "opsgenie":
        return [
            Snippet(
                "API URL",
                base,
                "Where an Opsgenie client sends alerts (in place of https://api.opsgenie.com);"
                " tocsin answers POST /v2/alerts and acknowledge/close by alias.",
            ),
            Snippet("API key", key, f"Sent as the header Authorization: GenieKey {key}."),
            _curl(
                f"{base}/v2/alerts",
                {"Authorization": f"GenieKey {key}"},
                {"message": "Example alert from curl", "alias": "example", "priority": "P1"},
            ),
        ]
    if kind == "heartbeat":
        return [
            Snippet(
                "Ping URL",
                url,
                "Have the job fetch or POST this URL at least once per interval "
                "(for example: curl -fsS -X POST followed by the URL).",
            )
        ]
    if kind == "generic":
        return [
            _curl(
                url,
                {},
                {
                    "title": "Example alert from curl",
                    "severity": "critical",
                    "dedup_key": "example",
                },
            )
        ]
    return [Snippet("Webhook URL", url, f"Set this as the {kind_name(kind)} URL (method POST).")]


def _curl(url: str, headers: dict[str, str], body: dict[str, object]) -> Snippet:
    parts = ["curl", "-fsS", "-X", "POST", shlex.quote(url)]
    for name, value in {"Content-Type": "application/json", **headers}.items():
        parts += ["-H", shlex.quote(f"{name}: {value}")]
    parts += ["-d", shlex.quote(json.dumps(body))]
    return Snippet(
        "curl",
        " \\\n  ".join([" ".join(parts[:5]), *_pairs(parts[5:])]),
        "Run this in a shell to send one alert; send it again and it joins the same incident.",
    )


def _pairs(flags: list[str]) -> list[str]:
    return [f"{flags[index]} {flags[index + 1]}" for index in range(0, len(flags), 2)]
