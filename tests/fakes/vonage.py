"""A fake Vonage SMS API (``POST /sms/json``) on 127.0.0.1 over HTTPS (the ``vonage`` SDK
speaks nothing else; the test trusts the fake's CA), strict like the other fakes, and the
signer of what Vonage sends back (inbound texts, delivery receipts) with the SDK's own
``Auth.sign_params``.

It checks every text as Vonage would: the account's Basic credentials, a ``to`` of digits
only (Vonage takes no ``+``), the sender, a ``callback`` under tocsin's public URL with
delivery receipts asked for, and a body that is GSM-7 in at most three segments. It
answers with a ``message-id`` and status 0, or a scripted status (7 for a barred number,
a throttle). Each test claims the texts it expects; an unclaimed one fails the test.
"""

from __future__ import annotations

import base64
import json
import secrets
import ssl
import threading
import time
from collections import deque
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qs

import trustme
from vonage import Auth

from tests.fakes.loopback import LoopbackServer, take
from tests.fakes.twilio import GSM7, PUBLIC_URL

API_KEY = "vonagekey"
API_SECRET = "vonage-api-secret"
SIGNATURE_SECRET = "vonage-signature-secret"
SENDER = "15555559898"


@dataclass(frozen=True)
class Text:
    message_id: str
    to: str
    body: str


def signed(params: dict[str, str]) -> dict[str, str]:
    """``params`` as Vonage sends them to a webhook: with a timestamp and ``sig``."""
    stamped = {**params, "timestamp": str(int(time.time()))}
    auth = Auth(api_key=API_KEY, signature_secret=SIGNATURE_SECRET, signature_method="sha256")
    return {**stamped, "sig": auth.sign_params(dict(stamped))}


class FakeVonage:
    def __init__(self, ca: trustme.CA) -> None:
        self.texts: deque[Text] = deque()
        self.problems: list[str] = []
        self.script: deque[str] = deque()
        self._lock = threading.Lock()
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ca.issue_cert("127.0.0.1").configure_cert(context)
        self._http = LoopbackServer(self._handler(), tls=context)

    @property
    def rest_host(self) -> str:
        return f"127.0.0.1:{self._http.port}"

    def start(self) -> None:
        self._http.start()

    def stop(self) -> None:
        self._http.stop()

    def refuse(self, status: str) -> None:
        with self._lock:
            self.script.append(status)

    def expect(self, to: str) -> Text:
        return take(self._lock, self.texts, lambda t: t.to == to, f"no Vonage text to {to}")

    def unexpected(self) -> list[Any]:
        with self._lock:
            return [*self.texts, *self.problems]

    def _problem(self, path: str, params: dict[str, str], authorization: str) -> str | None:
        if path != "/sms/json":
            return f"unexpected path {path}"
        expected = base64.b64encode(f"{API_KEY}:{API_SECRET}".encode()).decode()
        if authorization != f"Basic {expected}":
            return "wrong credentials"
        if not params.get("to", "").isdigit():
            return f"to is not digits only: {params.get('to')}"
        if params.get("from") != SENDER:
            return f"from {params.get('from')}"
        if params.get("callback") != f"{PUBLIC_URL}/vonage/status":
            return f"callback {params.get('callback')}"
        if params.get("status-report-req") not in ("true", "True", "1"):
            return "no delivery receipt asked for"
        text = params.get("text", "")
        if not text or any(char not in GSM7 for char in text) or len(text) > 3 * 153:
            return f"text is not GSM-7 in three segments: {text!r}"
        return None

    def _answer(self, path: str, params: dict[str, str], authorization: str) -> dict[str, Any]:
        with self._lock:
            problem = self._problem(path, params, authorization)
            if problem:
                self.problems.append(problem)
                status, text = "2", problem
            elif self.script:
                status, text = self.script.popleft(), "scripted"
            else:
                message_id = secrets.token_hex(8).upper()
                self.texts.append(Text(message_id, params["to"], params["text"]))
                return {
                    "message-count": "1",
                    "messages": [
                        {
                            "to": params["to"],
                            "message-id": message_id,
                            "status": "0",
                            "remaining-balance": "10.0",
                            "message-price": "0.01",
                            "network": "12345",
                        }
                    ],
                }
        return {
            "message-count": "1",
            "messages": [{"to": params.get("to", ""), "status": status, "error-text": text}],
        }

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                return

            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                params = {k: v[-1] for k, v in parse_qs(raw.decode()).items()}
                answer = fake._answer(self.path, params, self.headers.get("Authorization", ""))
                data = json.dumps(answer).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        return Handler
