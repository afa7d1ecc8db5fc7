"""A fake Slack Web API on 127.0.0.1, strict like the SMTP fake.

It speaks Slack's protocol over real HTTP (tocsin's ``slack_sdk`` client is pointed at it
through ``TOCSIN_SLACK_API_URL``): it checks every call's bearer token (or the app's
Basic credentials for ``oauth.v2.access``), that the method is one tocsin may call, its
required arguments, and the shape of Block Kit blocks (types Slack knows, button text at
most 75 characters, unique action ids in an actions block, section text under 3,000
characters). It answers as Slack does, or as a test scripted (a 429 with Retry-After, an
``invalid_auth``). It also serves ``response_url`` endpoints, where ephemeral answers to
button presses arrive.

Each test claims what it expects (``expect``); at teardown anything nobody claimed fails
the test: a duplicate message, an update with nothing changed, a call that should not
have been made.
"""

from __future__ import annotations

import base64
import json
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qs

from tests.fakes.loopback import LoopbackServer, take

BOT_TOKEN = "xoxb-test-bot-token"
CLIENT_ID = "111.222"
CLIENT_SECRET = "slack-client-secret"
TEAM_ID = "T0TOCSIN"

REQUIRED = {
    "chat.postMessage": ("channel",),
    "chat.update": ("channel", "ts"),
    "oauth.v2.access": ("code", "redirect_uri"),
}
BLOCK_TYPES = {"section", "actions", "context", "divider", "header"}
ELEMENT_TYPES = {"button", "static_select"}


@dataclass(frozen=True)
class Call:
    method: str
    arguments: dict[str, Any]

    @property
    def blocks(self) -> list[dict[str, Any]]:
        blocks = self.arguments.get("blocks") or []
        return json.loads(blocks) if isinstance(blocks, str) else blocks

    @property
    def text(self) -> str:
        return str(self.arguments.get("text", ""))

    def action_ids(self) -> list[str]:
        return [
            element["action_id"]
            for block in self.blocks
            if block["type"] == "actions"
            for element in block["elements"]
        ]

    def all_text(self) -> str:
        return json.dumps(self.blocks) + self.text


@dataclass
class Scripted:
    status: int
    body: dict[str, Any]
    headers: dict[str, str] = field(default_factory=dict)


class FakeSlack:
    def __init__(self) -> None:
        self.calls: deque[Call] = deque()
        self.responses: deque[tuple[str, dict[str, Any]]] = deque()
        self.script: dict[str, deque[Scripted]] = {}
        self.problems: list[str] = []
        self.token = BOT_TOKEN
        self.received_at: list[float] = []
        # The ts each recorded call was answered with, by the call's id().
        self.ts_of: dict[int, str] = {}
        self._ts = 1700000000
        self._lock = threading.Lock()
        self._http = LoopbackServer(self._handler())

    @property
    def port(self) -> int:
        return self._http.port

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/api/"

    def response_url(self, name: str = "press") -> str:
        return f"http://127.0.0.1:{self.port}/response/{name}"

    def start(self) -> None:
        self._http.start()

    def stop(self) -> None:
        self._http.stop()

    # Scripting ------------------------------------------------------------------------

    def rate_limit(self, method: str, retry_after: int) -> None:
        self._push(
            method,
            Scripted(429, {"ok": False, "error": "ratelimited"}, {"Retry-After": str(retry_after)}),
        )

    def refuse(self, method: str, error: str) -> None:
        self._push(method, Scripted(200, {"ok": False, "error": error}))

    def _push(self, method: str, answer: Scripted) -> None:
        with self._lock:
            self.script.setdefault(method, deque()).append(answer)

    # Claiming -------------------------------------------------------------------------

    def expect(self, method: str, **arguments: Any) -> Call:
        """The first unclaimed call of ``method`` whose arguments include ``arguments``."""
        return take(
            self._lock,
            self.calls,
            lambda call: (
                call.method == method
                and all(call.arguments.get(key) == value for key, value in arguments.items())
            ),
            f"no {method} call with {arguments}",
        )

    def expect_response(self, name: str = "press") -> dict[str, Any]:
        return take(
            self._lock,
            self.responses,
            lambda item: item[0] == name,
            f"nothing posted to response_url {name}",
        )[1]

    def unexpected(self) -> list[Any]:
        with self._lock:
            return [*self.calls, *self.responses, *self.problems]

    # Serving ----------------------------------------------------------------------------

    def _answer(self, method: str, arguments: dict[str, Any]) -> Scripted:
        with self._lock:
            scripted = self.script.get(method)
            if scripted:
                return scripted.popleft()
            self._ts += 1
            ts = f"{self._ts}.000100"
        if method == "oauth.v2.access":
            return Scripted(
                200,
                {
                    "ok": True,
                    "access_token": BOT_TOKEN,
                    "token_type": "bot",
                    "scope": "chat:write,im:write,commands,users:read",
                    "bot_user_id": "U0BOT",
                    "app_id": "A0TOCSIN",
                    "team": {"id": TEAM_ID, "name": "Tocsin Test"},
                    "enterprise": None,
                    "authed_user": {"id": "U0ADMIN"},
                },
            )
        channel = str(arguments["channel"])
        if method == "chat.postMessage" and channel.startswith("U"):
            channel = "D" + channel[1:]  # a direct message is answered with its IM channel
        if method == "chat.update":
            ts = str(arguments["ts"])
        return Scripted(200, {"ok": True, "channel": channel, "ts": ts})

    def _check(self, method: str, arguments: dict[str, Any], authorization: str) -> str | None:
        if method not in REQUIRED:
            return f"tocsin called {method}, which it has no business calling"
        if method == "oauth.v2.access":
            expected = base64.b64encode(f"{CLIENT_ID}:{CLIENT_SECRET}".encode()).decode()
            if authorization != f"Basic {expected}":
                return "oauth.v2.access without the app's Basic credentials"
        elif authorization != f"Bearer {self.token}":
            return f"{method} with token {authorization!r}"
        missing = [name for name in REQUIRED[method] if not arguments.get(name)]
        if missing:
            return f"{method} without {missing}"
        if method.startswith("chat.") and not arguments.get("text"):
            return f"{method} without a fallback text"
        blocks = arguments.get("blocks")
        if blocks is not None:
            return blocks_problem(json.loads(blocks) if isinstance(blocks, str) else blocks)
        return None

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                return

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length)
                if self.path.startswith("/response/"):
                    with fake._lock:
                        fake.responses.append((self.path.rsplit("/", 1)[-1], json.loads(raw)))
                    self._send(200, {"ok": True}, {})
                    return
                method = self.path.removeprefix("/api/")
                if "json" in (self.headers.get("Content-Type") or ""):
                    arguments = json.loads(raw or b"{}")
                else:
                    arguments = {k: v[-1] for k, v in parse_qs(raw.decode()).items()}
                problem = fake._check(method, arguments, self.headers.get("Authorization", ""))
                if problem is not None:
                    with fake._lock:
                        fake.problems.append(problem)
                    self._send(200, {"ok": False, "error": "invalid_arguments"}, {})
                    return
                answer = fake._answer(method, arguments)
                with fake._lock:
                    fake.received_at.append(time.monotonic())
                    call = Call(method, arguments)
                    fake.calls.append(call)
                    fake.ts_of[id(call)] = str(answer.body.get("ts", ""))
                self._send(answer.status, answer.body, answer.headers)

            def _send(self, status: int, body: dict[str, Any], headers: dict[str, str]) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json; charset=utf-8")
                self.send_header("Content-Length", str(len(data)))
                for name, value in headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(data)

        return Handler


def blocks_problem(blocks: Any) -> str | None:
    if not isinstance(blocks, list) or len(blocks) > 50:
        return "blocks is not a list of at most 50 blocks"
    for block in blocks:
        if not isinstance(block, dict) or block.get("type") not in BLOCK_TYPES:
            return f"unknown block {block!r}"
        text = block.get("text")
        if isinstance(text, dict) and len(text.get("text", "")) > 3000:
            return "section text over 3,000 characters"
        if block["type"] == "actions":
            ids = [element.get("action_id") for element in block.get("elements", [])]
            if len(ids) != len(set(ids)) or not ids or len(ids) > 25:
                return f"actions block with action ids {ids}"
            for element in block["elements"]:
                if element.get("type") not in ELEMENT_TYPES:
                    return f"unknown element {element!r}"
                label = element.get("text") or element.get("placeholder") or {}
                if len(label.get("text", "")) > 75:
                    return "button text over 75 characters"
    return None
