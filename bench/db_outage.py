"""Database outage benchmark: PagerDuty Events v2 triggers at a steady rate while the
PostgreSQL server is stopped (fast shutdown) and started again.

A scratch PostgreSQL (pgserver's binaries, a temporary data folder, a Unix socket) serves
one ``tocsin serve`` (API and engine, log level info, its log kept). Distinct triggers
arrive at ``--rate`` events/s for ``--seconds``, each from its own client with an 8 s
timeout (what monitoring tools give a webhook); at ``--stop-at`` seconds the server is
stopped with ``pg_ctl stop -m fast`` (what a minor upgrade or a maintenance window does)
and started again ``--outage`` seconds later. Printed: answers by status, the slowest
answer during the outage, the time from the database's return to the first 202, events
answered 202 but not stored (lost, must be 0), and the log lines tocsin wrote.

    python -m bench.db_outage [--rate 50] [--seconds 30] [--stop-at 8] [--outage 10]
                              [--no-engine]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
import uuid
import warnings
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import psycopg

from bench import _loadgen, _setup
from bench._seed import seed_integration
from tocsin.db import migrate
from tocsin.db.embedded import EmbeddedPostgres

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    import pgserver
    from pgserver import postgres_server

CLIENT_TIMEOUT = 8.0


@dataclass
class Answer:
    dedup_key: str
    sent_at: float
    seconds: float
    status: int | None  # None: no answer within the client's timeout


class ScratchPostgres:
    """A PostgreSQL of the benchmark's own, that it may stop and start."""

    def __init__(self, folder: Path) -> None:
        self.embedded = EmbeddedPostgres(folder)
        self.url = ""

    def start(self) -> str:
        self.url = self.embedded.start()
        return self.url

    def _server(self) -> postgres_server.PostgresServer:
        server: postgres_server.PostgresServer = self.embedded._server
        return server

    def stop_fast(self) -> None:
        server = self._server()
        pgserver.pg_ctl(["-m", "fast", "-w", "stop"], pgdata=server.pgdata, user=server.system_user)

    def start_again(self) -> None:
        server = self._server()
        socket_dir = psycopg.conninfo.conninfo_to_dict(self.url)["host"]
        pgserver.pg_ctl(
            ["-w", "-o", '-h ""', "-o", f"-k {socket_dir}", "-l", str(server.log), "start"],
            pgdata=server.pgdata,
            user=server.system_user,
            timeout=30,
        )

    def close(self) -> None:
        self.embedded.stop()


@contextlib.contextmanager
def scratch_postgres() -> Iterator[ScratchPostgres]:
    with tempfile.TemporaryDirectory(prefix="tocsin-outage-") as folder:
        # pgserver runs PostgreSQL as a user of its own when started by root.
        os.chmod(folder, 0o755)  # noqa: S103
        database = ScratchPostgres(Path(folder))
        database.start()
        try:
            yield database
        finally:
            database.close()


async def load(base: str, key: str, rate: float, seconds: float, answers: list[Answer]) -> None:
    """Open-loop sends, each on a connection of its own (what most monitoring tools do),
    through the lean client of ``_loadgen``: httpx's own pool adds seconds of queueing of
    its own when a hundred requests are in flight, which would be measured as tocsin's."""
    parts = urlsplit(base)

    async def one(sequence: int) -> None:
        dedup_key = f"outage-{sequence}-{uuid.uuid4().hex[:8]}"
        event = {
            "routing_key": key,
            "event_action": "trigger",
            "dedup_key": dedup_key,
            "payload": {
                "summary": f"disk full {sequence}",
                "source": "db-1",
                "severity": "critical",
            },
        }
        raw = _loadgen.post(base, "/v2/enqueue", json.dumps(event).encode())
        started = time.monotonic()
        status: int | None
        try:
            async with asyncio.timeout(CLIENT_TIMEOUT):
                reader, writer = await asyncio.open_connection(parts.hostname, parts.port)
                try:
                    status = await _loadgen.Connection(reader, writer).request(raw)
                finally:
                    writer.close()
        except TimeoutError:
            status = None
        except OSError:
            status = -1
        answers.append(Answer(dedup_key, started, time.monotonic() - started, status))

    tasks = []
    begin = time.monotonic()
    for sequence in range(int(rate * seconds)):
        delay = begin + sequence / rate - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(one(sequence)))
    await asyncio.gather(*tasks)


async def outage(database: ScratchPostgres, stop_at: float, length: float) -> tuple[float, float]:
    await asyncio.sleep(stop_at)
    # The outage starts when the shutdown does: PostgreSQL refuses new connections and
    # ends sessions at once, then writes its shutdown checkpoint before pg_ctl returns.
    stopped = time.monotonic()
    await asyncio.to_thread(database.stop_fast)
    await asyncio.sleep(length)
    await asyncio.to_thread(database.start_again)
    return stopped, time.monotonic()


async def run(args: argparse.Namespace) -> None:
    with scratch_postgres() as database, tempfile.TemporaryDirectory() as data:
        url = database.url
        migrate.upgrade(url)
        key = await seed_integration(url, kind="pagerduty_events_v2")
        log_path = Path(data) / "serve.log"
        port = _setup.free_port()
        env = {
            **os.environ,
            "TOCSIN_DATABASE_URL": url,
            "TOCSIN_DATA_DIR": data,
            "TOCSIN_INGEST_RATE_PER_MINUTE": "0",
            "TOCSIN_LOG_LEVEL": "info",
        }
        with log_path.open("w") as log:
            server = subprocess.Popen(  # noqa: ASYNC220 - started once, before the load
                [
                    sys.executable,
                    "-m",
                    "tocsin",
                    "serve",
                    "--port",
                    str(port),
                    *(["--no-engine"] if args.no_engine else []),
                ],
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
            base = f"http://127.0.0.1:{port}"
            try:
                _wait_ready(base, server)
                lines_before = _lines(log_path)
                answers: list[Answer] = []
                (stopped, back), _ = await asyncio.gather(
                    outage(database, args.stop_at, args.outage),
                    load(base, key, args.rate, args.seconds, answers),
                )
                await asyncio.sleep(2)
                written = log_path.read_text(errors="replace").splitlines()[lines_before:]
            finally:
                server.terminate()
                server.wait(timeout=60)
        with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://")) as check:
            stored = {row[0] for row in check.execute("SELECT dedup_key FROM alert")}
    report(args, answers, stored, stopped, back, written)


def report(
    args: argparse.Namespace,
    answers: list[Answer],
    stored: set[str],
    stopped: float,
    back: float,
    written: list[str],
) -> None:
    statuses = Counter("timeout" if a.status is None else str(a.status) for a in answers)
    during = [a for a in answers if stopped <= a.sent_at <= back]
    accepted_after = sorted(
        a.sent_at + a.seconds for a in answers if a.status == 202 and a.sent_at + a.seconds >= back
    )
    lost = [a for a in answers if a.status == 202 and a.dedup_key not in stored]
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}"
    )
    print(
        f"load: {args.rate:.0f} distinct PagerDuty triggers/s for {args.seconds:.0f} s; "
        f"database stopped (fast) at {args.stop_at:.0f} s for {back - stopped:.1f} s"
    )
    print(
        "answers: " + ", ".join(f"{status}: {count}" for status, count in sorted(statuses.items()))
    )
    if during:
        print(
            f"sent during the outage: {len(during)}, slowest answer "
            f"{max(a.seconds for a in during):.2f} s, "
            f"by status: {dict(Counter(str(a.status) for a in during))}"
        )
    for slow in sorted(answers, key=lambda a: -a.seconds)[:5]:
        print(
            f"    slow: sent {slow.sent_at - stopped:+.2f} s from the stop, "
            f"answered after {slow.seconds:.2f} s with {slow.status}"
        )
    late = [a for a in answers if a.sent_at > back and a.status != 202]
    if late:
        print(
            f"not 202 though sent after the database was back: {len(late)}, the last sent "
            f"{max(a.sent_at for a in late) - back:.2f} s after its return"
        )
    first = accepted_after[0] - back if accepted_after else float("nan")
    print(f"database back -> first 202: {first:.2f} s")
    print(f"lost (answered 202, not stored): {len(lost)}")
    print(f"log lines written by tocsin serve during the run: {len(written)}")
    for line in written if args.show_log else written[:40]:
        print(f"    {line[:160]}")


def _lines(path: Path) -> int:
    return len(path.read_text(errors="replace").splitlines())


def _wait_ready(base: str, server: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        with contextlib.suppress(httpx.TransportError):
            if httpx.get(f"{base}/readyz", timeout=2).status_code == 200:
                return
        if server.poll() is not None:
            raise SystemExit("tocsin serve exited")
        time.sleep(0.2)
    raise SystemExit("tocsin serve did not become ready")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=float, default=50)
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--stop-at", type=float, default=8)
    parser.add_argument("--outage", type=float, default=10)
    parser.add_argument("--show-log", action="store_true", help="print every log line")
    parser.add_argument(
        "--no-engine", action="store_true", help="serve the API alone (no escalation engine)"
    )
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
