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

Token rotation: ``rotating()`` makes the install's token one that a refresh token renews
(``oauth.v2.access`` with ``grant_type=refresh_token``; a refresh token other than the
current one is answered ``invalid_refresh_token``), and ``expire`` makes a token answer
``token_expired``. Sign in with Slack: ``sign_in`` issues a code for a Slack user, which
``openid.connect.token`` exchanges once for a user token, which
``openid.connect.userInfo`` answers for.
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
REFRESH_TOKEN = "xoxe-1-test-refresh-token"

REQUIRED = {
    "chat.postMessage": ("channel",),
    "chat.update": ("channel", "ts"),
    "oauth.v2.access": ("code", "redirect_uri"),
    "openid.connect.token": ("code", "redirect_uri"),
    "openid.connect.userInfo": (),
}
# The app's Basic credentials, not a token, authenticate these.
APP_AUTHENTICATED = {"oauth.v2.access", "openid.connect.token"}
BLOCK_TYPES = {"section", "actions", "context", "divider", "header"}
ELEMENT_TYPES = {"button", "static_select"}


@dataclass(frozen=True)
class Call:
    method: str
    arguments: dict[str, Any]
    token: str = ""

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
        # Bot tokens Slack accepts, and those it answers ``token_expired`` for.
        self.tokens = {BOT_TOKEN}
        self.expired: set[str] = set()
        self.refresh_token: str | None = None
        self.rotations = 0
        # Sign in with Slack: codes not yet exchanged, and the user tokens issued.
        self.codes: dict[str, tuple[str, str]] = {}
        self.user_tokens: dict[str, tuple[str, str]] = {}
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

    def rotating(self) -> None:
        """The install's bot token expires, and ``REFRESH_TOKEN`` renews it."""
        with self._lock:
            self.refresh_token = REFRESH_TOKEN

    def expire(self, token: str) -> None:
        with self._lock:
            self.tokens.discard(token)
            self.expired.add(token)

    def sign_in(self, code: str, *, team_id: str, user_id: str) -> None:
        """Slack sends the browser back with ``code`` for this user (the consent screen,
        which a test skips)."""
        with self._lock:
            self.codes[code] = (team_id, user_id)

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
        if method == "oauth.v2.access" and arguments.get("grant_type") == "refresh_token":
            return self._rotate(str(arguments["refresh_token"]))
        if method == "openid.connect.token":
            return self._user_token(str(arguments["code"]))
        if method == "openid.connect.userInfo":
            return self._user_info(str(arguments["token"]))
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
                    **(
                        {"refresh_token": self.refresh_token, "expires_in": 43200}
                        if self.refresh_token
                        else {}
                    ),
                },
            )
        channel = str(arguments["channel"])
        if method == "chat.postMessage" and channel.startswith("U"):
            channel = "D" + channel[1:]  # a direct message is answered with its IM channel
        if method == "chat.update":
            ts = str(arguments["ts"])
        return Scripted(200, {"ok": True, "channel": channel, "ts": ts})

    def _rotate(self, refresh_token: str) -> Scripted:
        with self._lock:
            if self.refresh_token is None or refresh_token != self.refresh_token:
                return Scripted(200, {"ok": False, "error": "invalid_refresh_token"})
            self.rotations += 1
            token = f"xoxe.xoxb-1-rotated-{self.rotations}"
            self.refresh_token = f"xoxe-1-refresh-{self.rotations}"
            # The old token works until it expires, as at Slack; tests expire it.
            self.tokens.add(token)
            self.token = token
        return Scripted(
            200,
            {
                "ok": True,
                "access_token": token,
                "token_type": "bot",
                "refresh_token": self.refresh_token,
                "expires_in": 43200,
                "team": {"id": TEAM_ID, "name": "Tocsin Test"},
                "bot_user_id": "U0BOT",
            },
        )

    def _user_token(self, code: str) -> Scripted:
        with self._lock:
            who = self.codes.pop(code, None)  # single use, as at Slack
            if who is None:
                return Scripted(200, {"ok": False, "error": "invalid_code"})
            token = f"xoxp-signin-{len(self.user_tokens) + 1}"
            self.user_tokens[token] = who
        claims = {"iss": "https://slack.com", "sub": who[1], "aud": CLIENT_ID}
        id_token = ".".join(
            base64.urlsafe_b64encode(json.dumps(part).encode()).decode().rstrip("=")
            for part in ({"alg": "RS256", "typ": "JWT"}, claims, {})
        )
        return Scripted(
            200, {"ok": True, "access_token": token, "token_type": "Bearer", "id_token": id_token}
        )

    def _user_info(self, token: str) -> Scripted:
        team_id, user_id = self.user_tokens[token]
        return Scripted(
            200,
            {
                "ok": True,
                "sub": user_id,
                "https://slack.com/user_id": user_id,
                "https://slack.com/team_id": team_id,
                "https://slack.com/team_name": "Tocsin Test" if team_id == TEAM_ID else "Other",
                "name": "Slack Person",
            },
        )

    def _check(self, method: str, arguments: dict[str, Any], authorization: str) -> str | None:
        if method not in REQUIRED:
            return f"tocsin called {method}, which it has no business calling"
        token = authorization.removeprefix("Bearer ")
        if method in APP_AUTHENTICATED:
            expected = base64.b64encode(f"{CLIENT_ID}:{CLIENT_SECRET}".encode()).decode()
            if authorization != f"Basic {expected}":
                return f"{method} without the app's Basic credentials"
        elif method == "openid.connect.userInfo":
            if token not in self.user_tokens:
                return f"{method} with token {authorization!r}, not a Sign in with Slack token"
            arguments["token"] = token
        elif token not in self.tokens and token not in self.expired:
            return f"{method} with token {authorization!r}"
        required = REQUIRED[method]
        if method == "oauth.v2.access" and arguments.get("grant_type") == "refresh_token":
            required = ("refresh_token",)
        missing = [name for name in required if not arguments.get(name)]
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
                token = self.headers.get("Authorization", "").removeprefix("Bearer ")
                if token in fake.expired and method not in APP_AUTHENTICATED:
                    answer = Scripted(200, {"ok": False, "error": "token_expired"})
                else:
                    answer = fake._answer(method, arguments)
                with fake._lock:
                    fake.received_at.append(time.monotonic())
                    call = Call(method, arguments, token)
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
