"""A lean open-loop HTTP/1.1 load generator for the benchmarks.

httpx costs about 1 ms of CPU per request, so at a few hundred requests per second on a
2-core machine the client, not the server, would set the figures. This sends pre-built
requests over a pool of keep-alive connections with asyncio streams and reads just the
status line and the body length. Each request is scheduled at its own moment whatever the
previous answers (open loop), and its latency is counted from that moment, so a server
that falls behind shows it as latency instead of silently slowing the load.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from urllib.parse import urlsplit


class Connection:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer

    async def request(self, raw: bytes) -> int:
        self.writer.write(raw)
        status_line = await self.reader.readline()
        status = int(status_line.split()[1])
        length = 0
        while True:
            line = await self.reader.readline()
            if line in (b"\r\n", b""):
                break
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value.strip())
        if length:
            await self.reader.readexactly(length)
        return status


def post(base: str, path: str, body: bytes) -> bytes:
    host = urlsplit(base).netloc
    return (
        f"POST {path} HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    ).encode() + body


async def open_loop(
    bases: list[str], make: Callable[[int, str], bytes], rate: float, seconds: float, pool: int
) -> tuple[list[float], int]:
    """Send ``rate`` requests/s for ``seconds``, spread over the servers; returns latencies
    (from each request's scheduled moment to its answer) and the count of non-2xx."""
    idle: dict[str, asyncio.Queue[Connection]] = {}
    for base in bases:
        queue: asyncio.Queue[Connection] = asyncio.Queue()
        parts = urlsplit(base)
        for _ in range(pool):
            reader, writer = await asyncio.open_connection(parts.hostname, parts.port)
            queue.put_nowait(Connection(reader, writer))
        idle[base] = queue
    latencies: list[float] = []
    failures = 0
    start = time.perf_counter()

    async def one(sequence: int, due: float) -> None:
        nonlocal failures
        base = bases[sequence % len(bases)]
        connection = await idle[base].get()
        try:
            status = await connection.request(make(sequence, base))
        finally:
            idle[base].put_nowait(connection)
        latencies.append(time.perf_counter() - due)
        if not 200 <= status < 300:
            failures += 1

    tasks = []
    for sequence in range(int(rate * seconds)):
        due = start + sequence / rate
        delay = due - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(one(sequence, due)))
    await asyncio.gather(*tasks)
    for queue in idle.values():
        while not queue.empty():
            queue.get_nowait().writer.close()
    return latencies, failures
