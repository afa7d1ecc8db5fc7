"""A fake Vonage SMS API (``POST /sms/json``) and Voice API (``POST /v1/calls``,
``PUT /v1/calls/{uuid}``) on 127.0.0.1 over HTTPS (the ``vonage`` SDK speaks nothing
else; the test trusts the fake's CA), strict like the other fakes, and the signer of what
Vonage sends back: inbound texts and receipts with the SDK's own ``Auth.sign_params``,
Voice webhooks with a JWT (HS256, the signature secret, the body's ``payload_hash``).

A call must carry the application's JWT (RS256, checked with its public key), a ``to``
and ``from`` of digits, answer and event URLs under tocsin's public URL naming the same
delivery, and machine detection that waits for the beep.

It checks every text as Vonage would: the account's Basic credentials, a ``to`` of digits
only (Vonage takes no ``+``), the sender, a ``callback`` under tocsin's public URL with
delivery receipts asked for, and a body that is GSM-7 in at most three segments. It
answers with a ``message-id`` and status 0, or a scripted status (7 for a barred number,
a throttle). Each test claims the texts it expects; an unclaimed one fails the test.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import secrets
import ssl
import threading
import time
from collections import deque
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qs

import jwt
import trustme
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from vonage import Auth

from tests.fakes.loopback import LoopbackServer, take
from tests.fakes.twilio import GSM7, PUBLIC_URL

API_KEY = "vonagekey"
API_SECRET = "vonage-api-secret"
SIGNATURE_SECRET = "vonage-signature-secret-of-the-fake-account"
SENDER = "15555559898"
APPLICATION_ID = "aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee"
_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
PRIVATE_KEY = _KEY.private_bytes(
    serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
).decode()
CALL_URL = re.compile(
    re.escape(PUBLIC_URL) + r"/vonage/voice/(answer|events)\?delivery=([0-9a-f-]{36})$"
)


@dataclass(frozen=True)
class Call:
    uuid: str
    to: str
    body: dict[str, Any]

    @property
    def answer_path(self) -> str:
        return str(self.body["answer_url"][0]).removeprefix(PUBLIC_URL)

    @property
    def events_path(self) -> str:
        return str(self.body["event_url"][0]).removeprefix(PUBLIC_URL)


def voice_headers(body: bytes = b"") -> dict[str, str]:
    """The ``Authorization`` Vonage sends with a Voice webhook carrying ``body``."""
    claims: dict[str, Any] = {"iat": int(time.time()), "jti": secrets.token_hex(8)}
    if body:
        claims["payload_hash"] = hashlib.sha256(body).hexdigest()
    token = jwt.encode(claims, SIGNATURE_SECRET, algorithm="HS256")
    return {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}


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
        self.calls: deque[Call] = deque()
        self.transfers: list[tuple[str, Any]] = []
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

    def expect_call(self, to: str) -> Call:
        return take(self._lock, self.calls, lambda c: c.to == to, f"no Vonage call to {to}")

    def expect(self, to: str) -> Text:
        return take(self._lock, self.texts, lambda t: t.to == to, f"no Vonage text to {to}")

    def unexpected(self) -> list[Any]:
        with self._lock:
            return [*self.texts, *self.calls, *self.problems]

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

    def _call_problem(self, body: dict[str, Any], authorization: str) -> str | None:
        scheme, _, token = authorization.partition(" ")
        try:
            claims = jwt.decode(token, _KEY.public_key(), algorithms=["RS256"])
        except jwt.PyJWTError as error:
            return f"no application JWT: {error}"
        if scheme != "Bearer" or claims.get("application_id") != APPLICATION_ID:
            return "not this application's JWT"
        to, sender = body.get("to") or [{}], body.get("from") or {}
        if to[0].get("type") != "phone" or not str(to[0].get("number", "")).isdigit():
            return f"to {to}"
        if sender.get("number") != SENDER:
            return f"from {sender}"
        answer = CALL_URL.match(str((body.get("answer_url") or [""])[0]))
        events = CALL_URL.match(str((body.get("event_url") or [""])[0]))
        if answer is None or answer.group(1) != "answer":
            return f"answer_url {body.get('answer_url')}"
        if events is None or events.group(1) != "events" or events.group(2) != answer.group(2):
            return f"event_url {body.get('event_url')}"
        if (body.get("advanced_machine_detection") or {}).get("mode") != "detect_beep":
            return f"machine detection {body.get('advanced_machine_detection')}"
        return None

    def _voice(self, method: str, path: str, raw: bytes, authorization: str) -> tuple[int, Any]:
        body = json.loads(raw or b"{}")
        with self._lock:
            if method == "PUT" and path.startswith("/v1/calls/"):
                self.transfers.append((path.rsplit("/", 1)[-1], body))
                return 204, None
            problem = self._call_problem(body, authorization)
            if problem:
                self.problems.append(problem)
                return 400, {"title": "Bad Request", "detail": problem}
            if self.script:
                return int(self.script.popleft()), {"title": "scripted"}
            call = Call(secrets.token_hex(16), str(body["to"][0]["number"]), body)
            self.calls.append(call)
        return 201, {
            "uuid": call.uuid,
            "status": "started",
            "direction": "outbound",
            "conversation_uuid": "CON-" + call.uuid,
        }

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                return

            def do_PUT(self) -> None:
                self.do_POST()

            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                authorization = self.headers.get("Authorization", "")
                if self.path.startswith("/v1/calls"):
                    status, answer = fake._voice(self.command, self.path, raw, authorization)
                else:
                    params = {k: v[-1] for k, v in parse_qs(raw.decode()).items()}
                    status, answer = 200, fake._answer(self.path, params, authorization)
                if answer is None:
                    self.send_response(status)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                data = json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        return Handler
