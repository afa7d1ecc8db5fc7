"""A real SMTP server (aiosmtpd) on 127.0.0.1 that parses what it receives, and is strict.

Each test says which mail it expects (``expect``); at teardown any mail nobody expected
fails the test, so "no duplicate page, no page after the acknowledgement" is checked by
every scenario for free. Replies can be scripted per recipient to exercise retries.
"""

from __future__ import annotations

import asyncio
import email
import email.policy
import socket
import threading
import time
from collections import deque
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session


@dataclass(frozen=True)
class Received:
    mail_from: str
    to: tuple[str, ...]
    message: EmailMessage

    @property
    def subject(self) -> str:
        return str(self.message["Subject"])

    @property
    def text(self) -> str:
        part = self.message.get_body(preferencelist=("plain",))
        assert part is not None
        return str(part.get_content())

    @property
    def html(self) -> str:
        part = self.message.get_body(preferencelist=("html",))
        assert part is not None
        return str(part.get_content())


class _Handler:
    def __init__(self, server: FakeSmtp) -> None:
        self.server = server

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: Any
    ) -> str:
        self.server.rcpt_seen.set()
        if self.server.hang_seconds:
            # A server that stops answering mid-transaction: the client is stuck here.
            seconds, self.server.hang_seconds = self.server.hang_seconds, 0.0
            await asyncio.sleep(seconds)
            return "421 4.4.2 timed out"
        if self.server.slow_seconds:
            # A slow server: the next recipient is accepted, but only this much later.
            seconds, self.server.slow_seconds = self.server.slow_seconds, 0.0
            await asyncio.sleep(seconds)
        scripted = self.server.script_for(address)
        if scripted is not None:
            return scripted
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        assert isinstance(envelope.content, bytes)
        parsed = email.message_from_bytes(envelope.content, policy=email.policy.default)
        assert isinstance(parsed, EmailMessage)
        with self.server.lock:
            self.server.inbox.append(
                Received(str(envelope.mail_from), tuple(envelope.rcpt_tos), parsed)
            )
            self.server.received_at.append(time.monotonic())
        return "250 Message accepted"


class FakeSmtp:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.inbox: list[Received] = []
        self.received_at: list[float] = []
        self._scripts: dict[str, deque[str]] = {}
        self.rcpt_seen = threading.Event()
        # The next RCPT TO hangs this long (a server that stopped answering).
        self.hang_seconds = 0.0
        # The next RCPT TO is accepted this much later (a slow server).
        self.slow_seconds = 0.0
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port: int = probe.getsockname()[1]
        self._controller = Controller(_Handler(self), hostname="127.0.0.1", port=self.port)

    def start(self) -> None:
        self._controller.start()

    def stop(self) -> None:
        self._controller.stop()

    def reply(self, address: str, *replies: str) -> None:
        """Answer the next RCPT TO for ``address`` with each of ``replies`` in turn."""
        self._scripts.setdefault(address.lower(), deque()).extend(replies)

    def script_for(self, address: str) -> str | None:
        with self.lock:
            queue = self._scripts.get(address.lower())
            return queue.popleft() if queue else None

    async def wait(self, count: int = 1, *, seconds: float = 10.0) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            with self.lock:
                if len(self.inbox) >= count:
                    return
            await asyncio.sleep(0.02)
        raise AssertionError(f"expected {count} mail(s), got {len(self.inbox)}")

    def expect(
        self, *, to: str, subject: str | None = None, contains: str | None = None
    ) -> Received:
        """Take the one unclaimed mail to ``to`` (matching ``subject``/``contains``)."""
        with self.lock:
            for index, received in enumerate(self.inbox):
                if to.lower() not in (address.lower() for address in received.to):
                    continue
                if subject is not None and subject not in received.subject:
                    continue
                if contains is not None and contains not in received.text:
                    continue
                return self.inbox.pop(index)
        raise AssertionError(
            f"no mail to {to} matching subject={subject!r} contains={contains!r}; "
            f"unclaimed: {[(r.to, r.subject) for r in self.inbox]}"
        )

    def unexpected(self) -> list[tuple[tuple[str, ...], str]]:
        with self.lock:
            return [(received.to, received.subject) for received in self.inbox]
