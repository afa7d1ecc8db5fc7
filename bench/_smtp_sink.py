"""An SMTP sink in a process of its own (aiosmtpd), so that the benchmark's mail server
does not share a CPU-bound interpreter with tocsin. Prints ``<monotonic> <subject>`` for
each mail received (CLOCK_MONOTONIC is system-wide on Linux, so the parent can compare).

    python -m bench._smtp_sink PORT
"""

from __future__ import annotations

import re
import sys
import threading
import time

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

SUBJECT = re.compile(rb"^Subject: (.*)$", re.MULTILINE)


class Sink:
    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        arrived = time.monotonic()
        assert isinstance(envelope.content, bytes)
        found = SUBJECT.search(envelope.content)
        subject = found.group(1).decode(errors="replace").strip() if found else ""
        sys.stdout.write(f"{arrived:.6f} {subject}\n")
        sys.stdout.flush()
        return "250 Message accepted"


def main() -> None:
    controller = Controller(Sink(), hostname="127.0.0.1", port=int(sys.argv[1]))
    controller.start()
    sys.stdout.write("ready\n")
    sys.stdout.flush()
    threading.Event().wait()


if __name__ == "__main__":
    main()
