"""A fake Twilio REST API on 127.0.0.1 (Messages), strict like the other fakes, and the
signer of what Twilio sends back (replies, status callbacks) with the real
``RequestValidator`` algorithm.

It checks every message request as Twilio would: the account's Basic credentials, an
E.164 ``To``, a sender (``MessagingServiceSid`` or ``From``), a ``StatusCallback`` URL
under tocsin's public URL, and a body that is GSM-7 in at most three segments (a page
that would cost UCS-2 or a fourth segment is a defect here). It answers 201 with a
message sid, or as scripted (21610 for an opted-out number, a 500). Each test claims the
texts it expects; an unclaimed one fails the test at teardown.
"""

from __future__ import annotations

import base64
import json
import re
import secrets
import threading
import time
from collections import deque
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qs

from twilio.request_validator import RequestValidator

from tests.fakes.loopback import LoopbackServer, take

ACCOUNT_SID = "AC" + "0" * 32
AUTH_TOKEN = "twilio-auth-token"
MESSAGING_SERVICE_SID = "MG" + "1" * 32
PUBLIC_URL = "https://tocsin.test"
E164 = re.compile(r"^\+[1-9]\d{6,14}$")
GSM7 = set(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà^{}\\[~]|€"
)


@dataclass(frozen=True)
class Text:
    sid: str
    to: str
    body: str
    params: dict[str, str]


def sign(url: str, params: dict[str, str]) -> str:
    """``X-Twilio-Signature`` of a request Twilio makes to ``url`` with ``params``."""
    signature: str = RequestValidator(AUTH_TOKEN).compute_signature(url, params)
    return signature


class FakeTwilio:
    def __init__(self) -> None:
        self.texts: deque[Text] = deque()
        self.problems: list[str] = []
        self.script: deque[tuple[int, dict[str, Any]]] = deque()
        self.received_at: list[tuple[str, float]] = []
        self._lock = threading.Lock()
        self._http = LoopbackServer(self._handler())

    @property
    def api_url(self) -> str:
        return self._http.origin

    def start(self) -> None:
        self._http.start()

    def stop(self) -> None:
        self._http.stop()

    def refuse(self, status: int, code: int, message: str) -> None:
        with self._lock:
            self.script.append((status, {"code": code, "message": message, "status": status}))

    def expect(self, to: str) -> Text:
        return take(self._lock, self.texts, lambda text: text.to == to, f"no text to {to}")

    def unexpected(self) -> list[Any]:
        with self._lock:
            return [*self.texts, *self.problems]

    def _problem(self, path: str, params: dict[str, str], authorization: str) -> str | None:
        if path != f"/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json":
            return f"unexpected path {path}"
        expected = base64.b64encode(f"{ACCOUNT_SID}:{AUTH_TOKEN}".encode()).decode()
        if authorization != f"Basic {expected}":
            return "wrong credentials"
        if not E164.match(params.get("To", "")):
            return f"To is not E.164: {params.get('To')}"
        if params.get("MessagingServiceSid") != MESSAGING_SERVICE_SID and not params.get("From"):
            return "no sender"
        if params.get("StatusCallback") != f"{PUBLIC_URL}/twilio/status":
            return f"StatusCallback {params.get('StatusCallback')}"
        body = params.get("Body", "")
        if not body or any(char not in GSM7 for char in body):
            return f"body is not GSM-7: {body!r}"
        if len(body) > 3 * 153:
            return f"body over three segments: {len(body)}"
        return None

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                return

            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                params = {k: v[-1] for k, v in parse_qs(raw.decode()).items()}
                with fake._lock:
                    problem = fake._problem(
                        self.path, params, self.headers.get("Authorization", "")
                    )
                    if problem:
                        fake.problems.append(problem)
                        status, body = 400, {"code": 21602, "message": problem, "status": 400}
                    elif fake.script:
                        status, body = fake.script.popleft()
                    else:
                        sid = "SM" + secrets.token_hex(16)
                        fake.texts.append(Text(sid, params["To"], params["Body"], params))
                        fake.received_at.append((params["Body"], time.monotonic()))
                        status, body = (
                            201,
                            {
                                "sid": sid,
                                "status": "queued",
                                "to": params["To"],
                                "body": params["Body"],
                                "account_sid": ACCOUNT_SID,
                            },
                        )
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        return Handler
