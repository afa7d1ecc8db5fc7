"""Chaos run: workers killed with SIGKILL while pages are being sent.

A fresh database, a real SMTP server in a process of its own (``bench._smtp_sink``), one
``tocsin serve --no-engine`` taking PagerDuty Events v2 triggers, and ``--workers``
``tocsin worker`` processes sending mail (bundling off, so every page is a mail of its
own), answering each recipient ``--smtp-delay`` seconds late (a relay checking
addresses), so that a kill finds sends in flight. ``--alerts`` triggers arrive evenly
over ``--seconds``, each paging two people; every ``--ack-every``-th is acknowledged and
resolved milliseconds after its trigger (the race between paging and cancelling). During
the burst (or ``--kill-over`` seconds from its start) a worker is killed with SIGKILL
``--kills`` times, evenly spaced, and started again at once (what a supervisor does).

Printed: pages expected, lost (a page of an open incident never mailed: must be 0),
duplicates (extra copies of one Message-ID to one recipient), late (mailed more than
``--late`` seconds after its trigger was accepted), the slowest and median page, sends
recovered from killed workers, deadlocks and tracebacks in the logs (workers and server), and
deliveries left unsettled.

    python -m bench.chaos [--alerts 200] [--seconds 10] [--kills 5] [--workers 2] [--kill-over S]
                          [--ack-every 10] [--late 15] [--settle 60]
                          [--smtp-delay 0.2] [--json] [--keep-logs DIR]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import platform
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import psycopg

from bench import _setup
from bench._seed import seed_integration

PAGE_SUBJECT = re.compile(r"^\[[A-Z]+\] checkout: chaos (\d+)$")
RECIPIENTS = ("oncall0@example.com", "oncall1@example.com")


@dataclass
class Mail:
    arrived: float
    message_id: str
    recipient: str
    subject: str


@dataclass
class Sink:
    """The SMTP sink's process and what it has printed so far."""

    process: subprocess.Popen[str]
    port: int
    mails: list[Mail] = field(default_factory=list)

    def read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            arrived, message_id, recipients, subject = line.rstrip("\n").split("\t", 3)
            for recipient in recipients.split(","):
                self.mails.append(Mail(float(arrived), message_id, recipient, subject))


@contextlib.contextmanager
def smtp_sink(delay: float) -> Iterator[Sink]:
    port = _setup.free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "bench._smtp_sink", str(port), "--ids", "--delay", str(delay)],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        if process.stdout.readline().strip() != "ready":
            raise SystemExit("the SMTP sink did not start")
        yield Sink(process, port)
    finally:
        process.terminate()
        process.wait(timeout=10)


class Workers:
    """``tocsin worker`` processes under a supervisor that restarts a killed one at once."""

    def __init__(self, count: int, env: dict[str, str], logs: Path) -> None:
        self.env = env
        self.logs = logs
        self.started = 0
        self.processes = [self._start() for _ in range(count)]

    def _start(self) -> subprocess.Popen[bytes]:
        self.started += 1
        log = (self.logs / f"worker-{self.started}.log").open("wb")
        return subprocess.Popen(
            [sys.executable, "-m", "tocsin", "worker"],
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )

    def wait_started(self, timeout: float = 60) -> None:
        """Until every worker has logged that its engine runs."""
        deadline = time.monotonic() + timeout
        while self.log_text().count("engine started") < len(self.processes):
            if time.monotonic() > deadline:
                raise SystemExit("the workers did not start:\n" + self.log_text())
            time.sleep(0.1)

    def kill_and_restart(self, index: int) -> None:
        process = self.processes[index]
        process.send_signal(signal.SIGKILL)
        process.wait()
        self.processes[index] = self._start()

    def stop(self) -> None:
        for process in self.processes:
            process.send_signal(signal.SIGTERM)
        for process in self.processes:
            try:
                process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                process.kill()

    def log_text(self) -> str:
        return "\n".join(
            path.read_text(errors="replace") for path in self.logs.glob("worker-*.log")
        )


async def alerts(
    base: str, key: str, count: int, seconds: float, ack_every: int
) -> tuple[dict[int, float], set[int]]:
    """Send the triggers; the acceptance time of each, and the ones cancelled at once."""
    accepted: dict[int, float] = {}
    cancelled: set[int] = set()
    limits = httpx.Limits(max_connections=50)
    async with httpx.AsyncClient(base_url=base, timeout=30, limits=limits) as client:

        async def event(number: int, action: str) -> httpx.Response:
            body = {
                "routing_key": key,
                "event_action": action,
                "dedup_key": f"chaos-{number}",
                "payload": {
                    "summary": f"chaos {number:04d}",
                    "source": "db-1",
                    "severity": "critical",
                },
            }
            return await client.post("/v2/enqueue", json=body)

        async def one(number: int) -> None:
            answer = await event(number, "trigger")
            if answer.status_code != 202:
                raise SystemExit(f"trigger {number} answered {answer.status_code}: {answer.text}")
            accepted[number] = time.monotonic()
            if ack_every and number % ack_every == 0:
                cancelled.add(number)
                for action in ("acknowledge", "resolve"):
                    await event(number, action)

        begin = time.monotonic()
        tasks = []
        for number in range(count):
            delay = begin + number * seconds / count - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(one(number)))
        await asyncio.gather(*tasks)
    return accepted, cancelled


async def kills(workers: Workers, count: int, seconds: float) -> list[float]:
    """Kill a worker ``count`` times, evenly over the burst, taking them in turn."""
    moments = []
    begin = time.monotonic()
    for number in range(count):
        await asyncio.sleep(
            max(0.0, begin + (number + 1) * seconds / (count + 1) - time.monotonic())
        )
        moments.append(time.monotonic())
        await asyncio.to_thread(workers.kill_and_restart, number % len(workers.processes))
    return moments


def unsettled(url: str) -> dict[str, int]:
    with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://")) as connection:
        rows = connection.execute(
            "SELECT status, count(*) FROM delivery WHERE status NOT IN "
            "('sent', 'delivered', 'cancelled') GROUP BY status"
        ).fetchall()
    return {status: count for status, count in rows}


async def run(args: argparse.Namespace) -> dict[str, object]:
    with (
        _setup.fresh_database() as url,
        tempfile.TemporaryDirectory() as data,
        smtp_sink(args.smtp_delay) as sink,
    ):
        key = await seed_integration(url, kind="pagerduty_events_v2", page_everyone=True)
        env = {
            "TOCSIN_SMTP_HOST": "127.0.0.1",
            "TOCSIN_SMTP_PORT": str(sink.port),
            "TOCSIN_SMTP_SECURITY": "none",
            "TOCSIN_NOTIFY_BUNDLE_THRESHOLD": "0",
            "TOCSIN_LOG_LEVEL": "info",
            # A killed worker's last lines are the interesting ones: nothing left in a buffer.
            "PYTHONUNBUFFERED": "1",
        }
        reader = asyncio.get_running_loop().run_in_executor(None, sink.read)
        logs = Path(data) / "logs"
        logs.mkdir()
        serve_log = logs / "serve.log"
        with _setup.serve(
            url, Path(data), extra=["--no-engine"], env=env, log=serve_log
        ) as servers:
            workers = Workers(args.workers, _setup._environment(url, Path(data), env), logs)
            try:
                await asyncio.to_thread(workers.wait_started)
                (accepted, cancelled), killed_at = await asyncio.gather(
                    alerts(servers.base_urls[0], key, args.alerts, args.seconds, args.ack_every),
                    kills(workers, args.kills, args.kill_over or args.seconds),
                )
                expected = {(n, r) for n in accepted if n not in cancelled for r in RECIPIENTS}
                deadline = time.monotonic() + args.settle
                # Until every page is mailed and every delivery settled (a recovered send
                # goes out again: a duplicate comes then, if one is coming). The sink is
                # another process, read by a thread: polled.
                while time.monotonic() < deadline and not _settled(sink, expected, url):  # noqa: ASYNC110
                    await asyncio.sleep(0.5)
                await asyncio.sleep(1)
            finally:
                workers.stop()
        log_text = "\n".join(path.read_text(errors="replace") for path in logs.glob("*.log"))
        if args.keep_logs:
            shutil.copytree(logs, args.keep_logs, dirs_exist_ok=True)
        left = unsettled(url)
    sink.process.terminate()
    await reader
    return report(args, sink.mails, accepted, cancelled, killed_at, log_text, left)


def _settled(sink: Sink, expected: set[tuple[int, str]], url: str) -> bool:
    return expected <= _paged(sink) and not unsettled(url)


def _paged(sink: Sink) -> set[tuple[int, str]]:
    found = set()
    for mail in list(sink.mails):
        match = PAGE_SUBJECT.match(mail.subject)
        if match:
            found.add((int(match.group(1)), mail.recipient))
    return found


def report(
    args: argparse.Namespace,
    mails: list[Mail],
    accepted: dict[int, float],
    cancelled: set[int],
    killed_at: list[float],
    log_text: str,
    left: dict[str, int],
) -> dict[str, object]:
    copies = Counter((mail.message_id, mail.recipient) for mail in mails)
    first: dict[tuple[int, str], float] = {}
    for mail in sorted(mails, key=lambda m: m.arrived):
        match = PAGE_SUBJECT.match(mail.subject)
        if match:
            first.setdefault((int(match.group(1)), mail.recipient), mail.arrived)
    # For each duplicated message: how long before a kill its first copy arrived (the
    # window between the server taking a mail and the database knowing it was sent).
    arrived: dict[tuple[str, str], float] = {}
    for mail in sorted(mails, key=lambda m: m.arrived):
        arrived.setdefault((mail.message_id, mail.recipient), mail.arrived)
    before_kill = sorted(
        round(min((k - arrived[key] for k in killed_at if k >= arrived[key]), default=-1) * 1000)
        for key, count in copies.items()
        if count > 1
    )
    expected = [(n, r) for n in sorted(accepted) if n not in cancelled for r in RECIPIENTS]
    delays = [first[page] - accepted[page[0]] for page in expected if page in first]
    return {
        "alerts": len(accepted),
        "cancelled_at_once": len(cancelled),
        "pages_expected": len(expected),
        "mails_received": len(mails),
        "lost": sum(1 for page in expected if page not in first),
        "duplicates": sum(count - 1 for count in copies.values()),
        "duplicate_copies_ms_before_a_kill": before_kill,
        "late": sum(1 for delay in delays if delay > args.late),
        "slowest_page_s": round(max(delays), 2) if delays else None,
        "median_page_s": round(statistics.median(delays), 3) if delays else None,
        "kills": len(killed_at),
        "sends_recovered": sum(
            int(n) for n in re.findall(r"recovered sends whose worker stopped\D*?(\d+)", log_text)
        ),
        "deadlocks_logged": len(re.findall(r"deadlock detected", log_text, re.IGNORECASE)),
        "tracebacks_logged": log_text.count("Traceback (most recent call last)"),
        "unsettled_deliveries": left,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--alerts", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--kills", type=int, default=5)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument(
        "--kill-over", type=float, default=0.0, help="seconds the kills spread over (the burst's)"
    )
    parser.add_argument("--ack-every", type=int, default=10)
    parser.add_argument("--late", type=float, default=15.0)
    parser.add_argument("--settle", type=float, default=60.0)
    parser.add_argument(
        "--smtp-delay", type=float, default=0.2, help="seconds the mail server takes per RCPT"
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--keep-logs", type=Path, help="copy the processes' logs here")
    args = parser.parse_args()
    figures = asyncio.run(run(args))
    if args.json:
        print(json.dumps(figures))
        return
    print(f"machine: {platform.node()} {os.cpu_count()} CPUs, Python {platform.python_version()}")
    for name, value in figures.items():
        print(f"{name:>22}: {value}")


if __name__ == "__main__":
    main()
