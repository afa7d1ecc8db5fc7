"""A loopback TCP proxy in front of PostgreSQL that a test (or a benchmark) can cut.

tocsin connects to the proxy's port instead of the server's; the proxy forwards bytes
both ways, to a TCP address or to the Unix socket of the embedded PostgreSQL. ``cut()``
does what a database restart or failover does to clients: every open connection is
dropped and new ones are refused (the port is closed) until ``restore()`` listens again
on the same port.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass

import psycopg.conninfo


@dataclass(frozen=True)
class Target:
    host: str
    port: int

    @property
    def unix_socket(self) -> str | None:
        return f"{self.host}/.s.PGSQL.{self.port}" if self.host.startswith("/") else None

    @classmethod
    def of(cls, conninfo: str) -> Target:
        """Where a libpq connection string points (its first host)."""
        parts = psycopg.conninfo.conninfo_to_dict(conninfo)
        host = str(parts.get("host") or "/var/run/postgresql").split(",")[0]
        port = int(str(parts.get("port") or 5432).split(",")[0])
        return cls(host, port)


class TcpProxy:
    def __init__(self, target: Target) -> None:
        self.target = target
        self.port = 0
        self.connections = 0
        self._server: asyncio.Server | None = None
        self._pipes: set[asyncio.StreamWriter] = set()
        self._tasks: set[asyncio.Task[None]] = set()

    async def start(self) -> int:
        self._server = await asyncio.start_server(
            self._accept, "127.0.0.1", self.port, reuse_address=True
        )
        self.port = self._server.sockets[0].getsockname()[1]
        return self.port

    async def cut(self) -> None:
        """Drop every open connection and refuse new ones."""
        if self._server is not None:
            self._server.close()
            self._server = None
        for writer in list(self._pipes):
            writer.transport.abort()
        self._pipes.clear()

    async def restore(self) -> None:
        await self.start()

    async def close(self) -> None:
        # Aborting both ends ends every pump; cancelling them instead would make asyncio
        # log the handler's cancellation as an error.
        await self.cut()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        try:
            if self.target.unix_socket is not None:
                upstream_reader, upstream_writer = await asyncio.open_unix_connection(
                    self.target.unix_socket
                )
            else:
                upstream_reader, upstream_writer = await asyncio.open_connection(
                    self.target.host, self.target.port
                )
        except OSError:
            writer.transport.abort()
            return
        self._pipes.update({writer, upstream_writer})
        pumps = [
            asyncio.create_task(_pump(source, sink))
            for source, sink in ((reader, upstream_writer), (upstream_reader, writer))
        ]
        self._tasks.update(pumps)
        try:
            await asyncio.gather(*pumps)
        finally:
            self._tasks.difference_update(pumps)
            self._pipes.difference_update({writer, upstream_writer})


async def _pump(source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
    try:
        while data := await source.read(65536):
            sink.write(data)
            await sink.drain()
    except (ConnectionError, OSError):
        pass
    finally:
        with contextlib.suppress(Exception):
            sink.transport.abort()
