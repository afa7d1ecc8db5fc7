"""Slack latencies: an accepted alert to Slack receiving its page (``chat.postMessage``),
and a button press to Slack receiving the updated message (``chat.update``).

Starts ``tocsin serve`` on a fresh database with Slack pointed at the strict fake Slack
Web API the tests use (``tests/fakes/slack.py``, over loopback), installs the app in one
workspace and links one on-call person. Then:

1. sends ``--rate`` new alerts per second for ``--seconds`` (open loop); each opens an
   incident paged to that person in Slack (and by mail, to the local outbox);
2. presses Acknowledge on ``--presses`` of those pages, ``--press-rate`` per second, each a
   request signed with ``slack_sdk``'s ``SignatureVerifier`` as Slack signs it; the time
   is from sending the press to the fake receiving the ``chat.update`` of that message.

Targets: both p99 < 100 ms at 50 alerts/s.

    python -m bench.slack [--rate 50] [--seconds 10] [--presses 100] [--press-rate 20]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import re
import tempfile
import time
from pathlib import Path
from urllib.parse import urlencode

import httpx
import sqlalchemy as sa
from slack_sdk.signature import SignatureVerifier
from tests.fakes import slack as fake
from tests.fakes.slack import FakeSlack

from bench import _notify, _setup
from bench.notify_latency import load
from tocsin.actions.actors import system_actor
from tocsin.clock import SystemClock
from tocsin.db.models.users import User
from tocsin.db.session import Database
from tocsin.notify.channels.slack import workspaces
from tocsin.security.encryption import Cipher

TARGET_P99 = 0.1
# A page's fallback text: "[CRITICAL] #12 Latency probe 000011 on payments-api".
PAGE_TEXT = re.compile(r"^\[CRITICAL\] #\d+ (.*) on payments-api$")
SIGNING_SECRET = "bench-slack-signing-secret"  # noqa: S105 - the fake's, not a credential


async def link(url: str) -> None:
    database = Database(url)
    now = SystemClock().now()
    try:
        async with database.transaction() as session:
            await workspaces.install(
                session,
                Cipher(_notify.SECRET),
                actor=system_actor("bench"),
                team_id=fake.TEAM_ID,
                team_name="Bench",
                bot_user_id="U0BOT",
                bot_token=fake.BOT_TOKEN,
                refresh_token=None,
                expires_at=None,
                now=now,
            )
            user = await session.scalar(sa.select(User))
            assert user is not None
            await workspaces.link(
                session,
                actor=system_actor("bench"),
                user=user,
                team_id=fake.TEAM_ID,
                slack_user_id="U0ONCALL",
                now=now,
            )
    finally:
        await database.dispose()


def pages(slack: FakeSlack) -> dict[str, tuple[float, str, str]]:
    """Each page received: its text → (arrival, incident id, message ts)."""
    found: dict[str, tuple[float, str, str]] = {}
    for call, at in zip(list(slack.calls), list(slack.received_at), strict=False):
        if call.method == "chat.postMessage" and call.arguments.get("channel") == "U0ONCALL":
            actions = next(b for b in call.blocks if b["type"] == "actions")
            incident = actions["elements"][0]["value"]
            found[call.text] = (at, incident, slack.ts_of[id(call)])
    return found


def updates(slack: FakeSlack) -> dict[str, float]:
    """When each message's first ``chat.update`` arrived, by its ts."""
    found: dict[str, float] = {}
    for call, at in zip(list(slack.calls), list(slack.received_at), strict=False):
        if call.method == "chat.update":
            found.setdefault(str(call.arguments["ts"]), at)
    return found


async def press_all(base: str, targets: list[tuple[str, str]], rate: float) -> dict[str, float]:
    """Press Acknowledge on each (incident, ts); when each press was sent, by ts."""
    sent: dict[str, float] = {}
    verifier = SignatureVerifier(SIGNING_SECRET)
    async with httpx.AsyncClient(base_url=base, timeout=30) as client:
        await client.get("/healthz")
        start = time.monotonic()

        async def one(number: int, incident: str, ts: str) -> None:
            await asyncio.sleep(max(0.0, start + number / rate - time.monotonic()))
            payload = {
                "type": "block_actions",
                "user": {"id": "U0ONCALL", "team_id": fake.TEAM_ID},
                "team": {"id": fake.TEAM_ID},
                "response_url": "https://hooks.slack.test/actions/1",
                "trigger_id": f"bench.{number}",
                "actions": [{"action_id": "acknowledge", "value": incident, "type": "button"}],
            }
            body = urlencode({"payload": json.dumps(payload)}).encode()
            timestamp = str(int(time.time()))
            headers = {
                "X-Slack-Request-Timestamp": timestamp,
                "X-Slack-Signature": verifier.generate_signature(timestamp=timestamp, body=body)
                or "",
                "Content-Type": "application/x-www-form-urlencoded",
            }
            sent[ts] = time.monotonic()
            answer = await client.post("/slack/interactions", content=body, headers=headers)
            if answer.status_code != 200:
                raise SystemExit(f"press {number}: {answer.status_code} {answer.text}")

        await asyncio.gather(*(one(n, incident, ts) for n, (incident, ts) in enumerate(targets)))
    return sent


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
    slack = FakeSlack()
    slack.start()
    try:
        with (
            _notify.fresh_database() as url,
            tempfile.TemporaryDirectory(prefix="tocsin-bench-") as folder,
        ):
            key = asyncio.run(_notify.seed(url, responders=1))
            asyncio.run(link(url))
            env = {
                "TOCSIN_SECRET_KEY": _notify.SECRET.decode(),
                "TOCSIN_NOTIFY_BUNDLE_THRESHOLD": "0",
                "TOCSIN_SLACK_CLIENT_ID": fake.CLIENT_ID,
                "TOCSIN_SLACK_CLIENT_SECRET": fake.CLIENT_SECRET,
                "TOCSIN_SLACK_SIGNING_SECRET": SIGNING_SECRET,
                "TOCSIN_SLACK_API_URL": slack.api_url,
            }
            with _setup.serve(url, Path(folder) / "data", env=env) as servers:
                base = servers.base_urls[0]
                server = servers.processes[0].pid
                cpu_before = _notify.cpu_seconds(server)
                accepted = asyncio.run(load(base, key, args.rate, args.seconds))
                wait_until = time.monotonic() + 60
                while len(pages(slack)) < len(accepted) and time.monotonic() < wait_until:
                    time.sleep(0.1)
                cpu_per_alert = (_notify.cpu_seconds(server) - cpu_before) / len(accepted)
                received = pages(slack)
                arrivals = {
                    match.group(1): at
                    for text, (at, _, _) in received.items()
                    if (match := PAGE_TEXT.match(text))
                }
                page_latencies = [
                    arrivals[title] - at for title, at in accepted.items() if title in arrivals
                ]
                time.sleep(1)
                chosen = list(received.values())[: args.presses]
                sent = asyncio.run(
                    press_all(base, [(incident, ts) for _, incident, ts in chosen], args.press_rate)
                )
                wait_until = time.monotonic() + 30
                while set(sent) - set(updates(slack)) and time.monotonic() < wait_until:
                    time.sleep(0.1)
                arrived = updates(slack)
                press_latencies = [arrived[ts] - at for ts, at in sent.items() if ts in arrived]
            stages = asyncio.run(_notify.where_the_time_goes(url))
    finally:
        slack.stop()
    print(
        f"alerts: {len(accepted)} at {args.rate:g}/s for {args.seconds:g} s; "
        f"calls the fake refused: {len(slack.problems)} {slack.problems[:3]}"
    )
    report("accepted -> chat.postMessage", page_latencies, len(accepted))
    report("press -> chat.update", press_latencies, len(sent))
    for line in stages:
        print(line)
    print(f"server CPU per alert (intake to both sends recorded): {cpu_per_alert * 1000:.1f} ms")
    print(f"machine: {platform.machine()}, {os.cpu_count()} cpus, {platform.python_version()}")


if __name__ == "__main__":
    main()
