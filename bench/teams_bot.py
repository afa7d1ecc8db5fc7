"""Teams bot latencies: an accepted alert to Bot Connector receiving its page (a
proactive message), and a press on the page's Acknowledge button (an ``Action.Execute``
invoke) to tocsin answering with the refreshed card, and to Bot Connector receiving the
update of the sent card.

Starts ``tocsin serve`` on a fresh database with the bot pointed at the strict fake Bot
Connector the tests use (``tests/fakes/bot_connector.py``, over loopback: token endpoint,
signing keys, conversations API), and links one on-call person's Teams chat. Then:

1. sends ``--rate`` new alerts per second for ``--seconds`` (open loop); each opens an
   incident paged to that person in Teams (and by mail, to the local outbox);
2. presses Acknowledge on ``--presses`` of those pages, ``--press-rate`` per second, each
   a request signed with the fake's key (checked by the Agents SDK's validator).

Targets: p99 < 100 ms, as for Slack.

    python -m bench.teams_bot [--rate 50] [--seconds 10] [--presses 100] [--press-rate 20]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import re
import tempfile
import time
from pathlib import Path

import httpx
import sqlalchemy as sa
from tests.fakes import bot_connector as fake
from tests.fakes.bot_connector import FakeBotConnector

from bench import _notify, _setup
from bench.notify_latency import load
from tocsin.actions.actors import system_actor
from tocsin.clock import SystemClock
from tocsin.db.models.users import User
from tocsin.db.session import Database
from tocsin.notify.channels.teams.bot import conversations

TARGET_P99 = 0.1
# A page's summary: "[CRITICAL] #12 Latency probe 000011 on payments-api".
SUMMARY = re.compile(r"^\[CRITICAL\] #\d+ (.*) on payments-api$")
AAD = "aad-oncall"
CONVERSATION = "a:oncall"


async def link(url: str, connector: FakeBotConnector) -> None:
    database = Database(url)
    now = SystemClock().now()
    connector.open_conversation(CONVERSATION)
    try:
        async with database.transaction() as session:
            await conversations.remember(
                session,
                tenant_id=fake.TENANT_ID,
                aad_object_id=AAD,
                teams_user_id="29:oncall",
                bot_id=fake.BOT_ID,
                conversation_id=CONVERSATION,
                service_url=connector.service_url,
                now=now,
            )
            user = await session.scalar(sa.select(User))
            assert user is not None
            await conversations.link(
                session,
                actor=system_actor("bench"),
                user=user,
                tenant_id=fake.TENANT_ID,
                aad_object_id=AAD,
                now=now,
            )
    finally:
        await database.dispose()


def pages(connector: FakeBotConnector) -> dict[str, tuple[float, str]]:
    """Each page received: its probe title → (arrival, incident id)."""
    found: dict[str, tuple[float, str]] = {}
    for received in connector.all_received():
        match = SUMMARY.match(str(received.body.get("summary", "")))
        if received.method == "send" and match:
            execute = next(a for a in received.card["actions"] if a["type"] == "Action.Execute")
            found[match.group(1)] = (received.at, str(execute["data"]["incident"]))
    return found


def updates(connector: FakeBotConnector) -> dict[str, float]:
    """When the first update of each incident's card arrived, by incident id."""
    found: dict[str, float] = {}
    for received in connector.all_received():
        if received.method == "update":
            incident = re.search(r"/incidents/([0-9a-f-]{36})", received.card_text())
            if incident:
                found.setdefault(incident.group(1), received.at)
    return found


async def press_all(
    base: str, connector: FakeBotConnector, incidents: list[str], rate: float
) -> tuple[dict[str, float], list[float]]:
    """Press Acknowledge on each incident's card: when each press was sent, by incident,
    and how long each took to be answered with the refreshed card."""
    sent: dict[str, float] = {}
    answered: list[float] = []
    token = connector.sign()
    start = time.monotonic()
    async with httpx.AsyncClient(base_url=base, timeout=30) as client:

        async def one(number: int, incident: str) -> None:
            await asyncio.sleep(max(0.0, start + number / rate - time.monotonic()))
            body = {
                "type": "invoke",
                "name": "adaptiveCard/action",
                "id": f"f:press-{number}",
                "channelId": "msteams",
                "serviceUrl": connector.service_url,
                "from": {"id": "29:oncall", "aadObjectId": AAD},
                "recipient": {"id": fake.BOT_ID},
                "conversation": {
                    "id": CONVERSATION,
                    "conversationType": "personal",
                    "tenantId": fake.TENANT_ID,
                },
                "value": {
                    "action": {
                        "type": "Action.Execute",
                        "verb": "acknowledge",
                        "data": {"incident": incident},
                    }
                },
            }
            sent[incident] = at = time.monotonic()
            answer = await client.post(
                "/teams/messages", json=body, headers={"Authorization": f"Bearer {token}"}
            )
            answered.append(time.monotonic() - at)
            if answer.status_code != 200 or "Acknowledged by" not in answer.text:
                raise SystemExit(f"press {number}: {answer.status_code} {answer.text[:300]}")

        await asyncio.gather(*(one(n, incident) for n, incident in enumerate(incidents)))
    return sent, answered


def report(name: str, latencies: list[float], expected: int) -> None:
    _notify.report(name, latencies, expected, target_p99=TARGET_P99)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=float, default=50.0)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--presses", type=int, default=100)
    parser.add_argument("--press-rate", type=float, default=20.0)
    args = parser.parse_args()
    _notify.measuring_quietly()
    connector = FakeBotConnector()
    connector.start()
    try:
        with (
            _notify.fresh_database() as url,
            tempfile.TemporaryDirectory(prefix="tocsin-bench-") as folder,
        ):
            key = asyncio.run(_notify.seed(url, responders=1))
            asyncio.run(link(url, connector))
            env = {
                "TOCSIN_SECRET_KEY": _notify.SECRET.decode(),
                "TOCSIN_NOTIFY_BUNDLE_THRESHOLD": "0",
                "TOCSIN_TEAMS_APP_ID": fake.APP_ID,
                "TOCSIN_TEAMS_APP_PASSWORD": fake.APP_PASSWORD,
                "TOCSIN_TEAMS_TENANT_ID": fake.TENANT_ID,
                "TOCSIN_TEAMS_TOKEN_URL": connector.token_url,
                "TOCSIN_TEAMS_KEYS_URL": connector.keys_url,
            }
            with _setup.serve(url, Path(folder) / "data", env=env) as servers:
                base = servers.base_urls[0]
                accepted = asyncio.run(load(base, key, args.rate, args.seconds))
                wait_until = time.monotonic() + 60
                while len(pages(connector)) < len(accepted) and time.monotonic() < wait_until:
                    time.sleep(0.1)
                received = pages(connector)
                page_latencies = [
                    received[title][0] - at for title, at in accepted.items() if title in received
                ]
                time.sleep(1)
                chosen = [incident for _, incident in list(received.values())[: args.presses]]
                sent, answered = asyncio.run(press_all(base, connector, chosen, args.press_rate))
                wait_until = time.monotonic() + 30
                while set(sent) - set(updates(connector)) and time.monotonic() < wait_until:
                    time.sleep(0.1)
                arrived = updates(connector)
                update_latencies = [arrived[i] - at for i, at in sent.items() if i in arrived]
    finally:
        connector.stop()
    print(
        f"alerts: {len(accepted)} at {args.rate:g}/s for {args.seconds:g} s; "
        f"calls the fake refused: {len(connector.problems)} {connector.problems[:3]}"
    )
    report("accepted -> proactive message", page_latencies, len(accepted))
    report("press -> invoke answered with the refreshed card", answered, len(sent))
    report("press -> card update received", update_latencies, len(sent))
    print(f"machine: {platform.machine()}, {os.cpu_count()} cpus, {platform.python_version()}")


if __name__ == "__main__":
    main()
