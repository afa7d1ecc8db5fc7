"""What a push notification and an ntfy message say, and how long a push is kept."""

from __future__ import annotations

import json
import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from tocsin.domain.deliveries import Purpose
from tocsin.domain.notices import IncidentFacts, Notice, Recipient
from tocsin.notify.channels.ntfy import message
from tocsin.notify.channels.push import payload, subscriptions

NOW = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
FACTS = IncidentFacts(
    id=uuid.UUID(int=7),
    number=42,
    title="Disk full on db-1 " + "x" * 300,
    description="",
    service="payments-api",
    team="Payments",
    urgency="low",
    severity="warning",
    status="triggered",
    triggered_at=NOW,
    alert_count=1,
    url="https://tocsin.test/incidents/7",
    acknowledge_url="https://tocsin.test/magic/a",
    resolve_url="https://tocsin.test/magic/r",
)
PAGE = Notice(
    delivery_id=uuid.UUID(int=1),
    purpose=Purpose.PAGE,
    recipient=Recipient(uuid.UUID(int=2), "Alice", "https://push.test/x", "UTC"),
    now=NOW,
    base_url="https://tocsin.test",
    incidents=(FACTS,),
    links_expire_at=NOW + timedelta(minutes=35),
)


def test_a_low_urgency_push_is_normal_kept_until_its_links_expire_and_fits_4_kb() -> None:
    body, ttl, urgency, topic = payload.message(PAGE)
    assert (urgency, topic, ttl) == ("normal", "incident-42", 35 * 60)
    assert body["requireInteraction"] is False
    assert len(body["title"]) <= payload.TITLE
    assert body["title"].startswith("#42 [MEDIUM] Disk full on db-1")
    assert len(json.dumps(body).encode()) < 3000


def test_a_push_kept_for_a_day_at_most_and_a_minute_at_least() -> None:
    assert payload.message(replace(PAGE, links_expire_at=NOW + timedelta(days=3)))[1] == 86400
    assert payload.message(replace(PAGE, links_expire_at=NOW))[1] == 60


def test_a_digest_push_acts_on_all_of_it() -> None:
    digest = replace(
        PAGE,
        purpose=Purpose.DIGEST,
        incidents=(FACTS, replace(FACTS, number=43, urgency="high")),
        acknowledge_all_url="https://tocsin.test/magic/all-a",
        resolve_all_url="https://tocsin.test/magic/all-r",
    )
    body, _, urgency, _ = payload.message(digest)
    assert urgency == "high"
    assert body["title"] == "[MEDIUM] 2 incidents on payments-api"
    assert [a["url"] for a in body["actions"]] == [
        "https://tocsin.test/magic/all-a",
        "https://tocsin.test/magic/all-r",
    ]


def test_an_ntfy_page_is_top_priority_only_when_urgent_and_its_buttons_post_json() -> None:
    low = message.publish(PAGE, "alice")
    assert low["priority"] == 3
    assert low["tags"] == ["warning"]
    high = message.publish(replace(PAGE, incidents=(replace(FACTS, urgency="high"),)), "alice")
    assert high["priority"] == 5
    assert high["sequence_id"] == "incident-42"
    assert high["actions"][0] == {
        "action": "http",
        "label": "Acknowledge",
        "url": "https://tocsin.test/magic/a",
        "method": "POST",
        "headers": {"Accept": "application/json"},
        "clear": True,
    }


def test_a_device_is_named_by_its_browser_and_system() -> None:
    iphone = (
        "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 "
        "(KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1"
    )
    assert subscriptions.device_name(iphone) == "Safari on iPhone"
    firefox = "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0"
    assert subscriptions.device_name(firefox) == "Firefox on Linux"
    assert subscriptions.label("  Work   laptop ", firefox) == "Work laptop"
