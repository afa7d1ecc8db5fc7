"""An SMTP sink in a process of its own (aiosmtpd), so that the benchmark's mail server
does not share a CPU-bound interpreter with tocsin. Prints ``<monotonic> <subject>`` for
each mail received (CLOCK_MONOTONIC is system-wide on Linux, so the parent can compare);
with ``--ids``, ``<monotonic> TAB <Message-ID> TAB <recipients> TAB <subject>``, to count
copies of one message. With ``--delay SECONDS`` it answers each recipient (RCPT TO) that
much later, as a relay checking addresses does: a client that dies meanwhile has handed
over nothing, so the send is in flight but not yet a mail.

    python -m bench._smtp_sink PORT [--ids] [--delay SECONDS]
"""

from __future__ import annotations

import asyncio
import re
import sys
import threading
import time

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

SUBJECT = re.compile(rb"^Subject: (.*)$", re.MULTILINE)
MESSAGE_ID = re.compile(rb"^Message-ID: (.*)$", re.MULTILINE | re.IGNORECASE)


class Sink:
    def __init__(self, with_ids: bool, delay: float) -> None:
        self.with_ids = with_ids
        self.delay = delay

    async def handle_RCPT(
        self,
        server: SMTP,
        session: Session,
        envelope: Envelope,
        address: str,
        rcpt_options: list[str],
    ) -> str:
        if self.delay:
            await asyncio.sleep(self.delay)
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        arrived = time.monotonic()
        assert isinstance(envelope.content, bytes)
        subject = _header(SUBJECT, envelope.content)
        if self.with_ids:
            message_id = _header(MESSAGE_ID, envelope.content)
            recipients = ",".join(envelope.rcpt_tos)
            line = f"{arrived:.6f}\t{message_id}\t{recipients}\t{subject}"
        else:
            line = f"{arrived:.6f} {subject}"
        sys.stdout.write(line + "\n")
        sys.stdout.flush()
        return "250 Message accepted"


def _header(pattern: re.Pattern[bytes], content: bytes) -> str:
    found = pattern.search(content)
    return found.group(1).decode(errors="replace").strip() if found else ""


def main() -> None:
    options = sys.argv[2:]
    delay = float(options[options.index("--delay") + 1]) if "--delay" in options else 0.0
    sink = Sink(with_ids="--ids" in options, delay=delay)
    controller = Controller(sink, hostname="127.0.0.1", port=int(sys.argv[1]))
    controller.start()
    sys.stdout.write("ready\n")
    sys.stdout.flush()
    threading.Event().wait()


if __name__ == "__main__":
    main()
