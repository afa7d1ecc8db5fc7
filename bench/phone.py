"""Phone and push latencies: an accepted alert to the fake Twilio receiving its text, and
to the fake push service receiving (and decrypting) its push.

Starts ``tocsin serve`` on a fresh database with Twilio pointed at the strict fake Twilio
the tests use (``tests/fakes/twilio.py``) and web push at the fake push service
(``tests/fakes/push.py``, which checks the VAPID signature and decrypts each push). Seeds
``--rate`` times ``--seconds`` people, each paged by their own service, each with a verified
phone texted at once (their SMS rule at 0 minutes) and one device with push on: a phone
gets at most one text a minute, so one person per alert measures the path, not the
digest. Then sends ``--rate`` new alerts per second for ``--seconds`` (open loop), one
per person.

Target: both p99 < 100 ms at 50 alerts/s.

    python -m bench.phone [--rate 50] [--seconds 10]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import re
import tempfile
import time
import uuid
from pathlib import Path

import httpx
import sqlalchemy as sa
from py_vapid import Vapid
from tests.fakes import twilio as fake_twilio
from tests.fakes.push import FakePushService
from tests.fakes.twilio import FakeTwilio

from bench import _notify, _setup
from bench.slack import report
from tocsin.actions.actors import system_actor
from tocsin.actions.escalation import policies
from tocsin.actions.identity import contact_methods, teams, users
from tocsin.actions.services import integrations, services
from tocsin.actions.services.integration_settings import Destination
from tocsin.clock import SystemClock
from tocsin.db.models.contact_methods import ContactMethod, NotificationRule
from tocsin.db.models.integrations import IntegrationKind
from tocsin.db.session import Database
from tocsin.domain.access import TeamRole
from tocsin.domain.channels import ChannelKind
from tocsin.domain.escalation import LevelSnapshot, Target, TargetKind
from tocsin.notify.channels.push import vapid
from tocsin.security.encryption import Cipher

TITLE = re.compile(r"Latency probe \d{6}")


async def seed(url: str, people: int, push: FakePushService, *, texts: bool) -> list[str]:
    """``people`` people, each paged by a service of their own; its integration keys."""
    database = Database(url)
    actor = system_actor("bench")
    now = SystemClock().now()
    keys: list[str] = []
    try:
        async with database.transaction() as session:
            team = await teams.create_team(session, actor=actor, name="Phones", now=now)
            for number in range(people):
                user = await users.create_user(
                    session,
                    actor=actor,
                    email=f"phone{number}@example.com",
                    name=f"Phone {number}",
                    now=now,
                )
                await teams.add_member(
                    session,
                    actor=actor,
                    team_id=team.id,
                    user_id=user.id,
                    role=TeamRole.RESPONDER,
                    now=now,
                )
                policy = await policies.create_policy(
                    session,
                    actor=actor,
                    team_id=team.id,
                    name=f"Phone {number}",
                    levels=[LevelSnapshot(30, (Target(TargetKind.USER, user.id),))],
                    now=now,
                )
                service = await services.create_service(
                    session,
                    actor=actor,
                    team_id=team.id,
                    name=f"phone-{number}",
                    escalation_policy_id=policy.policy.id,
                    now=now,
                )
                saved = await integrations.create_integration(
                    session,
                    actor=actor,
                    cipher=Cipher(_notify.SECRET),
                    name=f"bench {number}",
                    kind=IntegrationKind.GENERIC,
                    destination=Destination(service_id=service.id),
                    now=now,
                )
                assert saved.key is not None
                keys.append(saved.key)
                if texts:
                    session.add(
                        ContactMethod(
                            id=uuid.uuid4(),
                            user_id=user.id,
                            kind=ChannelKind.SMS,
                            label="mobile",
                            address=f"+1555{number:07d}",
                            details={},
                            verified_at=now,
                            created_at=now,
                            updated_at=now,
                        )
                    )
                device = push.subscription()
                await contact_methods.connect(
                    session,
                    actor=system_actor("bench"),
                    user_id=user.id,
                    kind=ChannelKind.PUSH,
                    address=device.endpoint,
                    label="Chrome on Android",
                    details={"p256dh": device.p256dh, "auth": device.auth},
                    now=now,
                )
            await session.execute(
                sa.update(NotificationRule)
                .where(NotificationRule.kind == ChannelKind.SMS)
                .values(delay_minutes=0)
            )
    finally:
        await database.dispose()
    return keys


async def load(base: str, keys: list[str], rate: float) -> dict[str, float]:
    accepted: dict[str, float] = {}
    start = time.monotonic()
    async with httpx.AsyncClient(base_url=base, timeout=30) as client:

        async def one(number: int, key: str) -> None:
            await asyncio.sleep(max(0.0, start + number / rate - time.monotonic()))
            title = f"Latency probe {number:06d}"
            body = {"title": title, "dedup_key": f"probe-{number}", "severity": "critical"}
            answer = await client.post(f"/ingest/{key}", json=body)
            if answer.status_code != 202:
                raise SystemExit(f"alert {number}: {answer.status_code} {answer.text}")
            accepted[title] = time.monotonic()

        await asyncio.gather(*(one(number, key) for number, key in enumerate(keys)))
    return accepted


def texts(twilio: FakeTwilio) -> dict[str, float]:
    return {
        match.group(0): at for body, at in list(twilio.received_at) if (match := TITLE.search(body))
    }


def pushes(push: FakePushService) -> dict[str, float]:
    found: dict[str, float] = {}
    for received, (_, at) in zip(list(push.pushes), list(push.received_at), strict=False):
        if match := TITLE.search(received.payload["title"]):
            found[match.group(0)] = at
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=float, default=50.0)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--no-texts", action="store_true", help="push only")
    parser.add_argument(
        "--people",
        type=int,
        default=0,
        help="people the alerts go round (default: one per alert; fewer makes texts digests)",
    )
    args = parser.parse_args()
    _notify.measuring_quietly()
    alerts = int(args.rate * args.seconds)
    people = args.people or alerts
    twilio, push = FakeTwilio(), FakePushService()
    twilio.start()
    push.start()
    key = Vapid()
    key.generate_keys()
    push.application_server_key = vapid.application_server_key(key)
    try:
        smtp_port = _setup.free_port()
        with (
            _notify.fresh_database() as url,
            # Mail goes to an SMTP sink as in production, not to the local outbox (a
            # database write per mail, which a deployment that pages by phone has not).
            _notify.smtp_server(smtp_port),
            tempfile.TemporaryDirectory(prefix="tocsin-bench-") as folder,
        ):
            started = time.monotonic()
            keys = asyncio.run(seed(url, people, push, texts=not args.no_texts))
            print(f"seeded {people} people in {time.monotonic() - started:.1f} s")
            env = {
                "TOCSIN_SECRET_KEY": _notify.SECRET.decode(),
                "TOCSIN_NOTIFY_BUNDLE_THRESHOLD": "0",
                "TOCSIN_SMTP_HOST": "127.0.0.1",
                "TOCSIN_SMTP_PORT": str(smtp_port),
                "TOCSIN_SMTP_SECURITY": "none",
                "TOCSIN_PUBLIC_URL": fake_twilio.PUBLIC_URL,
                "TOCSIN_TWILIO_ACCOUNT_SID": fake_twilio.ACCOUNT_SID,
                "TOCSIN_TWILIO_AUTH_TOKEN": fake_twilio.AUTH_TOKEN,
                "TOCSIN_TWILIO_MESSAGING_SERVICE_SID": fake_twilio.MESSAGING_SERVICE_SID,
                "TOCSIN_TWILIO_API_URL": twilio.api_url,
                "TOCSIN_VAPID_PRIVATE_KEY": key.private_pem().decode(),
            }
            with _setup.serve(url, Path(folder) / "data", env=env) as servers:
                rounds = [keys[number % len(keys)] for number in range(alerts)]
                accepted = asyncio.run(load(servers.base_urls[0], rounds, args.rate))
                wait_until = time.monotonic() + 60
                while time.monotonic() < wait_until and (
                    len(texts(twilio)) < (0 if args.no_texts else min(people, len(accepted)))
                    or len(pushes(push)) < len(accepted)
                ):
                    time.sleep(0.1)
                sms_at, push_at = texts(twilio), pushes(push)
            stages = asyncio.run(_notify.where_the_time_goes(url))
    finally:
        twilio.stop()
        push.stop()
    print(
        f"alerts: {len(accepted)} at {args.rate:g}/s for {args.seconds:g} s; refused by the "
        f"fakes: Twilio {len(twilio.problems)} {twilio.problems[:2]}, "
        f"push {len(push.problems)} {push.problems[:2]}"
    )
    report(
        "accepted -> Twilio text",
        [sms_at[t] - at for t, at in accepted.items() if t in sms_at],
        len(accepted),
    )
    report(
        "accepted -> push service",
        [push_at[t] - at for t, at in accepted.items() if t in push_at],
        len(accepted),
    )
    for line in stages:
        print(line)
    print(f"machine: {platform.machine()}, {os.cpu_count()} cpus, {platform.python_version()}")


if __name__ == "__main__":
    main()
