"""A fake Twilio REST API on 127.0.0.1 (Messages and Calls), strict like the other fakes,
and the signer of what Twilio sends back (replies, status callbacks, a call's requests)
with the real ``RequestValidator`` algorithm.

It checks every request as Twilio would: the account's Basic credentials, an E.164 ``To``,
a sender (``MessagingServiceSid`` or ``From``). A text needs a ``StatusCallback`` under
tocsin's public URL and a body that is GSM-7 in at most three segments (a page that would
cost UCS-2 or a fourth segment is a defect here). A call needs a ``From`` number, answer
and status URLs under tocsin's public URL naming the same delivery, and answering
machine detection that waits for the greeting's end. It answers 201 with a sid, or as
scripted (21610 for an opted-out number, a 500, a stall longer than the caller waits).
Each test claims the texts and calls it expects; an unclaimed one fails the test at
teardown. ``twiml`` reads what tocsin answers a call with, refusing verbs Twilio would.
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
from urllib.parse import parse_qs, urlencode, urlsplit
from xml.etree import ElementTree

import httpx
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


@dataclass(frozen=True)
class Call:
    sid: str
    to: str
    params: dict[str, str]

    @property
    def answer_path(self) -> str:
        return _path(self.params["Url"])

    @property
    def status_path(self) -> str:
        return _path(self.params["StatusCallback"])

    def request(self, **more: str) -> dict[str, str]:
        """The form Twilio posts about this call."""
        return {
            "CallSid": self.sid,
            "AccountSid": ACCOUNT_SID,
            "From": self.params["From"],
            "To": self.to,
            "Direction": "outbound-api",
            "CallStatus": "in-progress",
            **more,
        }


def _path(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}"


CALL_URL = re.compile(
    re.escape(PUBLIC_URL) + r"/twilio/voice/(answer|status)\?delivery=([0-9a-f-]{36})$"
)
VERBS = {"Say", "Gather", "Redirect", "Hangup", "Pause"}


def sign(url: str, params: dict[str, str]) -> str:
    """``X-Twilio-Signature`` of a request Twilio makes to ``url`` with ``params``."""
    signature: str = RequestValidator(AUTH_TOKEN).compute_signature(url, params)
    return signature


async def from_twilio(
    client: httpx.AsyncClient, path: str, params: dict[str, str], *, signature: str | None = None
) -> httpx.Response:
    """Post ``params`` to tocsin's ``path`` (with its query) as Twilio does: signed over
    the public URL, unless ``signature`` says otherwise."""
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    url = f"{PUBLIC_URL}{path}"
    headers["X-Twilio-Signature"] = signature if signature is not None else sign(url, params)
    return await client.post(path, content=urlencode(params), headers=headers)


def twiml(response: httpx.Response) -> ElementTree.Element:
    """A call's TwiML answer, checked: XML, a ``<Response>`` of voice verbs only, every
    URL it names under tocsin's public URL."""
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/xml")
    root = ElementTree.fromstring(response.text)  # noqa: S314 - tocsin's own answer
    assert root.tag == "Response", response.text
    for verb in root.iter():
        if verb is root:
            continue
        assert verb.tag in VERBS, f"unexpected TwiML verb {verb.tag}"
        url = verb.get("action") or (verb.text if verb.tag == "Redirect" else None)
        if url is not None:
            assert url.startswith(f"{PUBLIC_URL}/twilio/voice/"), url
    return root


def spoken(root: ElementTree.Element) -> str:
    return " ".join((say.text or "") for say in root.iter("Say"))


class FakeTwilio:
    def __init__(self) -> None:
        self.calls: deque[Call] = deque()
        self.stall_seconds = 0.0
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

    def expect_call(self, to: str) -> Call:
        return take(self._lock, self.calls, lambda call: call.to == to, f"no call to {to}")

    def unexpected(self) -> list[Any]:
        with self._lock:
            return [*self.texts, *self.calls, *self.problems]

    def _problem(self, path: str, params: dict[str, str], authorization: str) -> str | None:
        expected = base64.b64encode(f"{ACCOUNT_SID}:{AUTH_TOKEN}".encode()).decode()
        if authorization != f"Basic {expected}":
            return "wrong credentials"
        if not E164.match(params.get("To", "")):
            return f"To is not E.164: {params.get('To')}"
        if path == f"/2010-04-01/Accounts/{ACCOUNT_SID}/Calls.json":
            return self._call_problem(params)
        if path != f"/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json":
            return f"unexpected path {path}"
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

    def _call_problem(self, params: dict[str, str]) -> str | None:
        if not E164.match(params.get("From", "")):
            return f"a call needs a From number: {params.get('From')}"
        answer = CALL_URL.match(params.get("Url", ""))
        status = CALL_URL.match(params.get("StatusCallback", ""))
        if answer is None or answer.group(1) != "answer":
            return f"Url {params.get('Url')}"
        if status is None or status.group(1) != "status" or status.group(2) != answer.group(2):
            return f"StatusCallback {params.get('StatusCallback')}"
        if params.get("MachineDetection") != "DetectMessageEnd":
            return f"MachineDetection {params.get('MachineDetection')}"
        if "Twiml" in params:
            return "a call's words come from its Url, not inline TwiML"
        return None

    def _created(self, path: str, params: dict[str, str]) -> dict[str, Any]:
        if path.endswith("/Calls.json"):
            sid = "CA" + secrets.token_hex(16)
            self.calls.append(Call(sid, params["To"], params))
            self.received_at.append((params["To"], time.monotonic()))
            return {"sid": sid, "status": "queued", "to": params["To"], "account_sid": ACCOUNT_SID}
        sid = "SM" + secrets.token_hex(16)
        self.texts.append(Text(sid, params["To"], params["Body"], params))
        self.received_at.append((params["Body"], time.monotonic()))
        return {
            "sid": sid,
            "status": "queued",
            "to": params["To"],
            "body": params["Body"],
            "account_sid": ACCOUNT_SID,
        }

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
                        status, body = 201, fake._created(self.path, params)
                    stall = fake.stall_seconds
                if stall:
                    time.sleep(stall)  # the request was taken; the answer comes too late
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        return Handler
