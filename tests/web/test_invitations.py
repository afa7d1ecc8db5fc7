"""A person created by an admin is mailed an invitation: a one-time, expiring sign-in
link, sent by the engine like any mail (here into the local outbox)."""

from __future__ import annotations

import re

import httpx
import pytest
import sqlalchemy as sa
from fastapi import FastAPI

from tests.builders import Seed
from tests.notify.conftest import sending_engine
from tests.web.support import browser, submit, text_of
from tocsin.clock import FrozenClock
from tocsin.config import Settings
from tocsin.db.models.deliveries import Delivery, OutboxMessage
from tocsin.db.session import Database
from tocsin.domain.deliveries import Purpose
from tocsin.engine.loop import Engine
from tocsin.notify import notifier as notify


@pytest.fixture
def engine(app: FastAPI, settings: Settings, database: Database, clock: FrozenClock) -> Engine:
    return sending_engine(app, database, clock, notify.build(settings, database, clock))


async def _mail_to(seed: Seed, address: str) -> list[OutboxMessage]:
    async with seed.database.transaction() as session:
        return list(
            (
                await session.scalars(
                    sa.select(OutboxMessage)
                    .where(OutboxMessage.recipient == address)
                    .order_by(OutboxMessage.created_at)
                )
            ).all()
        )


def _link(message: OutboxMessage) -> str:
    found = re.search(r"https://tocsin\.test(/login/link/[A-Za-z0-9_-]+)", message.text_body)
    assert found, message.text_body
    return found.group(1)


async def _sign_in(seed: Seed, path: str) -> httpx.Response:
    """Open the link as a fresh browser and press its button."""
    visitor = httpx.AsyncClient(
        transport=httpx.ASGITransport(app=seed.app, client=("203.0.113.9", 50000)),
        base_url="https://tocsin.test",
        headers={"accept": "text/html"},
    )
    seed._clients.append(visitor)
    confirm = await visitor.get(path)
    if confirm.status_code != 200:
        return confirm
    token = re.search(r'name="csrf_token" value="([^"]+)"', confirm.text)
    assert token
    return await visitor.post(path, data={"csrf_token": token.group(1)})


async def test_a_new_user_gets_an_invitation_that_signs_them_in_once(
    seed: Seed, engine: Engine
) -> None:
    admin = await browser(seed, await seed.user("Ada", admin=True))
    created = await submit(
        admin,
        "/admin/users",
        "/admin/users",
        {"email": "new.person@example.com", "name": "Nina", "time_zone": "UTC"},
    )
    assert created.status_code == 303, created.text
    shown = text_of(await admin.get(created.headers["location"]))
    assert "An invitation with a one-time sign-in link was sent to new.person@example.com" in (
        shown
    )
    assert "until Thu 8 Jan 2026 09:00 UTC" in shown  # 72 hours
    await engine.tick()
    (mail,) = await _mail_to(seed, "new.person@example.com")
    assert mail.subject.startswith("You are invited to tocsin")
    assert "Ada added you to tocsin" in mail.text_body
    assert "Sign in to tocsin" in mail.html_body
    path = _link(mail)
    async with seed.database.transaction() as session:
        delivery = await session.scalar(
            sa.select(Delivery).where(Delivery.purpose == Purpose.INVITATION)
        )
        assert delivery is not None
        assert "sign_in_url" not in delivery.details  # the link left the row once sent
    signed_in = await _sign_in(seed, path)
    assert signed_in.status_code == 303
    assert signed_in.headers["location"] == "/profile"
    assert (await _sign_in(seed, path)).status_code == 410  # single use


async def test_an_invitation_expires_and_can_be_resent(
    seed: Seed, engine: Engine, clock: FrozenClock
) -> None:
    ada = await seed.user("Ada", admin=True)
    admin = await browser(seed, ada)
    nina = await seed.user("Nina", email="nina@example.com")
    path = f"/admin/users/{nina.id}"
    page = await admin.get(path)
    assert "Resend invitation</button>" in page.text
    sent = await submit(admin, path, f"{path}/invitation")
    assert "was sent to nina@example.com" in text_of(await admin.get(sent.headers["location"]))
    await engine.tick()
    (first,) = await _mail_to(seed, "nina@example.com")
    clock.advance(hours=73)
    assert (await _sign_in(seed, _link(first))).status_code == 410  # expired
    admin = await browser(seed, ada)  # a new session: the old one idled out meanwhile
    await submit(admin, path, f"{path}/invitation")
    await engine.tick()
    _, second = await _mail_to(seed, "nina@example.com")
    assert (await _sign_in(seed, _link(second))).status_code == 303


async def test_the_api_invites_unless_told_not_to(seed: Seed, engine: Engine) -> None:
    api = await seed.as_user(await seed.user("Ada", admin=True))
    created = await api.post("/api/v1/users", json={"email": "api@example.com", "name": "Api"})
    assert created.status_code == 201, created.text
    quiet = await api.post(
        "/api/v1/users", json={"email": "quiet@example.com", "name": "Quiet", "invite": False}
    )
    assert quiet.status_code == 201
    await engine.tick()
    assert len(await _mail_to(seed, "api@example.com")) == 1
    assert await _mail_to(seed, "quiet@example.com") == []
    again = await api.post(f"/api/v1/users/{quiet.json()['id']}/invitation")
    assert again.status_code == 202
    assert again.json()["sent_to"] == "quiet@example.com"
    await engine.tick()
    assert len(await _mail_to(seed, "quiet@example.com")) == 1


async def test_inviting_a_deactivated_user_is_refused_plainly(seed: Seed) -> None:
    admin = await browser(seed, await seed.user("Ada", admin=True))
    gone = await seed.user("Gone", email="gone@example.com")
    path = f"/admin/users/{gone.id}"
    await submit(admin, path, path, {"email": gone.email, "name": "Gone", "time_zone": "UTC"})
    refused = await submit(admin, path, f"{path}/invitation")
    assert refused.status_code == 303
    assert "Not sent: gone@example.com is deactivated" in text_of(
        await admin.get(refused.headers["location"])
    )
    api = await seed.as_user(await seed.user("Bo", admin=True))
    problem = await api.post(f"/api/v1/users/{gone.id}/invitation")
    assert problem.status_code == 422
    assert problem.headers["content-type"].startswith("application/problem+json")
