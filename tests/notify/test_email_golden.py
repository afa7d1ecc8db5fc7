"""The email channel's ``render`` for every kind of mail, compared with reviewed goldens.

Each case is a ``Notice`` built here with fixed ids, times and links, so that rendering
(a pure function) gives the same subject, text and HTML every run. The goldens are
``tests/notify/golden/email/<case>/{subject.txt,text.txt,body.html}``; after a deliberate
change run ``pytest tests/notify/test_email_golden.py --update-golden`` and review the
diff of the goldens like any other change.
"""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tocsin.domain.deliveries import Purpose
from tocsin.domain.notices import IncidentFacts, Notice, Recipient
from tocsin.notify.channels.email.channel import EmailChannel, RenderedEmail

GOLDEN = Path(__file__).parent / "golden" / "email"
BASE = "https://tocsin.example"
NOW = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
ALICE = Recipient(uuid.UUID(int=1), "Alice Example", "alice@example.com", time_zone="Europe/Berlin")


def _incident(
    number: int, title: str, *, severity: str = "critical", **fields: object
) -> IncidentFacts:
    incident_id = uuid.UUID(int=1000 + number)
    facts = IncidentFacts(
        id=incident_id,
        number=number,
        title=title,
        description="",
        service="payments-api",
        team="Payments",
        urgency="high",
        severity=severity,
        status="triggered",
        triggered_at=NOW - timedelta(minutes=number),
        alert_count=1,
        url=f"{BASE}/incidents/{incident_id}",
        acknowledge_url=f"{BASE}/magic/ack-{number}",
        resolve_url=f"{BASE}/magic/resolve-{number}",
    )
    return replace(facts, **fields)  # type: ignore[arg-type]


def _notice(purpose: Purpose, **fields: object) -> Notice:
    notice = Notice(
        delivery_id=uuid.UUID(int=99),
        purpose=purpose,
        recipient=ALICE,
        now=NOW,
        base_url=BASE,
        message_id="<incident.1001.1@tocsin.example>",
        thread_id="<incident.1001.1@tocsin.example>",
    )
    return replace(notice, **fields)  # type: ignore[arg-type]


CASES: dict[str, Notice] = {
    # A first page is not an escalation: no prefix. The description comes from a
    # monitoring tool and is escaped in HTML.
    "page_first": _notice(
        Purpose.PAGE,
        incidents=(
            _incident(
                1,
                "Disk full on db-1",
                description="/dev/sda1 at 99%\n<script>alert('x')</script> & more",
                alert_count=3,
            ),
        ),
        level=1,
        links_expire_at=NOW + timedelta(hours=1),
    ),
    "page_escalation_level_2": _notice(
        Purpose.PAGE,
        incidents=(_incident(1, "Checkout latency above 2 s", severity="error"),),
        level=2,
        links_expire_at=NOW + timedelta(minutes=35),
        message_id="<00000000-0000-0000-0000-000000000063@tocsin.example>",
    ),
    "digest": _notice(
        Purpose.DIGEST,
        incidents=(
            _incident(4, "Disk 4 full"),
            _incident(5, "Disk 5 full", severity="warning"),
            _incident(6, "Disk 6 full", severity="error"),
        ),
        acknowledge_all_url=f"{BASE}/magic/ack-all",
        resolve_all_url=f"{BASE}/magic/resolve-all",
        links_expire_at=NOW + timedelta(hours=1),
        message_id=None,
        thread_id=None,
    ),
    "status_acknowledged": _notice(
        Purpose.STATUS,
        incidents=(_incident(1, "Disk full on db-1", acknowledge_url=None, resolve_url=None),),
        event="acknowledged",
        event_by="bob@example.com",
        event_at=NOW + timedelta(minutes=3),
        message_id=None,
    ),
    "status_resolved": _notice(
        Purpose.STATUS,
        incidents=(
            _incident(
                1,
                "Disk full on db-1",
                status="resolved",
                acknowledge_url=None,
                resolve_url=None,
            ),
        ),
        event="resolved",
        event_by="Datadog (datadog)",
        event_at=NOW + timedelta(minutes=20),
        message_id=None,
    ),
    "shift_start": _notice(
        Purpose.SHIFT,
        schedule="Payments primary",
        event_at=NOW + timedelta(hours=1),
        message_id=None,
        thread_id=None,
    ),
    "verification": _notice(
        Purpose.VERIFICATION,
        verification_url=f"{BASE}/verify/token-1",
        message_id=None,
        thread_id=None,
    ),
    "invitation": _notice(
        Purpose.INVITATION,
        sign_in_url=f"{BASE}/login/link/token-2",
        links_expire_at=NOW + timedelta(hours=72),
        event_by="Ada Admin",
        message_id=None,
        thread_id=None,
    ),
}

PARTS = {"subject.txt": "subject", "text.txt": "text", "body.html": "html"}


def _render(case: str) -> RenderedEmail:
    return EmailChannel([], sender="tocsin@tocsin.example").content(CASES[case])


@pytest.mark.parametrize("case", sorted(CASES))
def test_rendered_email_matches_its_golden(case: str, update_golden: bool) -> None:
    rendered = _render(case)
    folder = GOLDEN / case
    for name, part in PARTS.items():
        value = getattr(rendered, part)
        text = value + "\n" if part == "subject" else value
        if update_golden:
            folder.mkdir(parents=True, exist_ok=True)
            (folder / name).write_text(text)
            continue
        assert (folder / name).is_file(), f"no golden {case}/{name}: run with --update-golden"
        assert text == (folder / name).read_text(), f"{case}/{name} differs from its golden"


def test_every_golden_has_its_case() -> None:
    assert {path.name for path in GOLDEN.iterdir()} == set(CASES)


def test_the_escalation_prefix_starts_at_level_2() -> None:
    first = _render("page_first")
    second = _render("page_escalation_level_2")
    assert first.subject == "[CRITICAL] payments-api: Disk full on db-1"
    assert second.subject.startswith("[ESCALATION - Level 2] [HIGH] payments-api: ")
    assert "Escalation Level" not in first.text + first.html
    assert "Escalation Level 2" in second.text
    third = EmailChannel([], sender="tocsin@tocsin.example").content(
        replace(CASES["page_escalation_level_2"], level=3)
    )
    assert third.subject.startswith("[ESCALATION - Level 3] ")


def test_text_from_monitoring_is_escaped_in_html_and_plain_in_text() -> None:
    rendered = _render("page_first")
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; more" in rendered.html
    assert "<script>" not in rendered.html
    assert "<script>alert('x')</script> & more" in rendered.text
