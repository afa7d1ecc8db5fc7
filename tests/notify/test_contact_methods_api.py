"""Contact methods, verification, rules and warnings through the API and pages."""

from __future__ import annotations

import asyncio
import re

import httpx
import sqlalchemy as sa

from tests.builders import Seed
from tests.fakes.smtp import FakeSmtp
from tocsin.clock import FrozenClock
from tocsin.db.models.deliveries import Delivery
from tocsin.db.session import Database
from tocsin.domain.access import TeamRole
from tocsin.engine.loop import Engine


async def test_a_new_user_starts_with_a_verified_account_email_and_default_rules(
    seed: Seed,
) -> None:
    alice = await seed.user("Alice", email="alice@example.com")
    client = await seed.as_user(alice)
    methods = (await client.get("/api/v1/me/contact-methods")).json()
    assert [(m["kind"], m["address"], m["verified_at"] is not None) for m in methods] == [
        ("email", "alice@example.com", True)
    ]
    rules = (await client.get("/api/v1/me/notification-rules")).json()
    high_at_once = {"delay_minutes": 0, "kinds": ["email", "ntfy", "push", "slack", "teams"]}
    assert high_at_once in rules["high"]
    assert rules["low"][0]["kinds"][0] == "email"
    reach = (await client.get("/api/v1/me/reachability")).json()
    assert reach["reachable_high"] == ["email"]
    assert reach["reaches_nobody"] == []
    assert any("no sms provider" in problem for problem in reach["problems_high"])


async def test_an_email_address_is_verified_by_the_link_mailed_to_it(
    seed: Seed, engine: Engine, smtp: FakeSmtp, client: httpx.AsyncClient
) -> None:
    alice = await seed.user("Alice", email="alice@example.com")
    alice_client = await seed.as_user(alice)
    added = await alice_client.post(
        "/api/v1/me/contact-methods", json={"kind": "email", "address": "Alice@Home.example"}
    )
    assert added.status_code == 201, added.text
    assert added.json()["verified_at"] is None
    await engine.tick()
    mail = smtp.expect(to="alice@home.example", subject="Confirm your email address")
    link = re.search(r"https://tocsin\.test(/verify/\S+)", mail.text)
    assert link is not None
    assert (await client.get(link.group(1))).status_code == 200  # shows, changes nothing
    methods = (await alice_client.get("/api/v1/me/contact-methods")).json()
    assert [m["verified_at"] is not None for m in methods] == [True, False]
    confirmed = await client.post(link.group(1))
    assert "Confirmed" in confirmed.text
    methods = (await alice_client.get("/api/v1/me/contact-methods")).json()
    assert all(m["verified_at"] is not None for m in methods)
    again = await alice_client.post(f"/api/v1/contact-methods/{added.json()['id']}/resend")
    assert again.status_code == 409


async def test_a_phone_code_allows_five_tries_and_one_resend_a_minute(
    seed: Seed, database: Database, clock: FrozenClock
) -> None:
    alice = await seed.user("Alice", email="alice@example.com")
    client = await seed.as_user(alice)
    added = await client.post(
        "/api/v1/me/contact-methods", json={"kind": "sms", "address": "+1 415 555 0123"}
    )
    assert added.status_code == 201, added.text
    method_id = added.json()["id"]
    assert added.json()["address"] == "+14155550123"
    async with database.transaction() as session:
        code = await session.scalar(
            sa.select(Delivery.details["code"].astext).where(
                Delivery.contact_method_id == method_id
            )
        )
    assert code is not None
    wrong = "000000" if code != "000000" else "111111"
    for left in (4, 3, 2, 1, 0):
        refused = await client.post(
            f"/api/v1/contact-methods/{method_id}/verify", json={"code": wrong}
        )
        assert refused.status_code == 422
        assert refused.json()["field"] == "code"
        assert f"{left} tries left" in refused.json()["detail"]
    locked = await client.post(f"/api/v1/contact-methods/{method_id}/verify", json={"code": code})
    assert "too many" in locked.json()["detail"]
    too_soon = await client.post(f"/api/v1/contact-methods/{method_id}/resend")
    assert too_soon.status_code == 429
    clock.advance(minutes=1)
    assert (await client.post(f"/api/v1/contact-methods/{method_id}/resend")).status_code == 200


async def test_two_resends_at_once_send_one_code(seed: Seed, clock: FrozenClock) -> None:
    alice = await seed.user("Alice", email="alice@example.com")
    client = await seed.as_user(alice)
    added = await client.post(
        "/api/v1/me/contact-methods", json={"kind": "sms", "address": "+1 415 555 0123"}
    )
    method_id = added.json()["id"]
    # A browser session each (as from four tabs or devices): requests of one session would
    # queue behind each other on its row when it is marked as used.
    clients = [await seed.as_user(alice) for _ in range(4)]
    clock.advance(minutes=1)
    answers = await asyncio.gather(
        *(tab.post(f"/api/v1/contact-methods/{method_id}/resend") for tab in clients)
    )
    assert sorted(answer.status_code for answer in answers) == [200, 429, 429, 429]


async def test_rules_are_replaced_per_urgency_and_checked(seed: Seed) -> None:
    alice = await seed.user("Alice", email="alice@example.com")
    client = await seed.as_user(alice)
    saved = await client.put(
        "/api/v1/me/notification-rules",
        json={
            "urgency": "low",
            "steps": [
                {"delay_minutes": 0, "kinds": ["email"]},
                {"delay_minutes": 3, "kinds": ["sms"]},
            ],
        },
    )
    assert saved.status_code == 200, saved.text
    assert saved.json()["low"] == [
        {"delay_minutes": 0, "kinds": ["email"]},
        {"delay_minutes": 3, "kinds": ["sms"]},
    ]
    twice = await client.put(
        "/api/v1/me/notification-rules",
        json={"urgency": "low", "steps": [{"delay_minutes": 0, "kinds": ["email", "email"]}]},
    )
    assert twice.status_code == 422
    assert twice.json()["field"] == "steps"


async def test_someone_on_call_whose_rules_reach_nobody_is_warned_about(
    seed: Seed, database: Database, clock: FrozenClock
) -> None:
    alice = await seed.user("Alice", email="alice@example.com")
    admin = await seed.user("Root", admin=True)
    await seed.team("Ops", [(alice, TeamRole.RESPONDER)])
    client = await seed.as_user(alice)
    await client.put("/api/v1/me/notification-rules", json={"urgency": "high", "steps": []})
    reach = (await client.get("/api/v1/me/reachability")).json()
    assert reach["reaches_nobody"] == ["high"]
    page = await client.get("/profile/notifications")
    assert "your rules reach you by no channel" in page.text
    admin_client = await seed.as_user(admin)
    warnings = await admin_client.get("/api/v1/notification-warnings")
    assert warnings.status_code == 200
    assert warnings.json() == []  # nobody is on call: there are no schedules


async def test_the_outbox_page_shows_mail_delivered_locally_to_platform_admins(
    seed: Seed, settings_engine: Engine
) -> None:
    admin = await seed.user("Root", admin=True, email="root@example.com")
    alice = await seed.user("Alice", email="alice@example.com")
    alice_client = await seed.as_user(alice)
    await alice_client.post(
        "/api/v1/me/contact-methods", json={"kind": "email", "address": "alice@home.example"}
    )
    await settings_engine.tick()
    admin_client = await seed.as_user(admin)
    listing = await admin_client.get("/outbox")
    assert "No SMTP server is configured" in listing.text
    assert "Confirm your email address for tocsin" in listing.text
    assert (await alice_client.get("/outbox")).status_code == 403


async def test_notification_endpoints_for_a_person_who_does_not_exist_are_404(
    seed: Seed,
) -> None:
    admin = await seed.as_user(await seed.user("Admin", admin=True))
    nobody = "/api/v1/users/23ab473d-03c1-5b6d-a257-72c8d088d8fd"
    rules = {"urgency": "high", "steps": [{"delay_minutes": 0, "kinds": ["email"]}]}
    for answer in (
        await admin.put(f"{nobody}/notification-rules", json=rules),
        await admin.get(f"{nobody}/notification-rules"),
        await admin.get(f"{nobody}/contact-methods"),
        await admin.post(
            f"{nobody}/contact-methods", json={"kind": "email", "address": "x@example.com"}
        ),
    ):
        assert answer.status_code == 404, answer.text
        assert answer.headers["content-type"] == "application/problem+json"
        assert answer.json()["status"] == 404


async def test_the_account_email_method_follows_a_change_of_the_account_email(
    seed: Seed, engine: Engine, smtp: FakeSmtp, client: httpx.AsyncClient
) -> None:
    alice = await seed.user("Alice", email="alice@example.com")
    admin = await seed.as_user(await seed.user("Admin", admin=True))
    changed = await admin.patch(f"/api/v1/users/{alice.id}", json={"email": "alice@new.example"})
    assert changed.status_code == 200, changed.text
    methods = (await admin.get(f"/api/v1/users/{alice.id}/contact-methods")).json()
    assert [(m["label"], m["address"], m["verified_at"] is not None) for m in methods] == [
        ("account email", "alice@new.example", True)
    ]

    # A second change onto an address she had already added herself (unverified): that
    # method is verified and kept, the previous account address goes.
    as_alice = await seed.as_user(alice)
    added = await as_alice.post(
        "/api/v1/me/contact-methods",
        json={"kind": "email", "address": "alice@home.example", "label": "home"},
    )
    assert added.status_code == 201, added.text
    await engine.tick()
    smtp.expect(to="alice@home.example", subject="Confirm your email address")
    again = await admin.patch(f"/api/v1/users/{alice.id}", json={"email": "alice@home.example"})
    assert again.status_code == 200, again.text
    methods = (await admin.get(f"/api/v1/users/{alice.id}/contact-methods")).json()
    assert [(m["label"], m["address"], m["verified_at"] is not None) for m in methods] == [
        ("home", "alice@home.example", True)
    ]
