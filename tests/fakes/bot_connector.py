"""A fake Microsoft Bot Connector on 127.0.0.1, strict like the other fakes, plus the
identity side a Teams bot meets: a token endpoint and the keys Bot Connector signs with.

* ``POST /token``: the OAuth client-credentials grant (``TOCSIN_TEAMS_TOKEN_URL``); it
  checks the app id, the password and the Bot Framework scope, and issues a token every
  conversation call must then carry.
* ``GET /keys``: a JWKS with the fake's RSA key (``TOCSIN_TEAMS_KEYS_URL``), which signs
  the requests tests send to ``/teams/messages`` (``sign``), as Bot Connector would.
* ``POST /v3/conversations/{id}/activities[/{reply to}]``: a proactive message or a
  reply; ``PUT /v3/conversations/{id}/activities/{activity id}``: an update of a sent
  card. Each checks the bearer token, that the conversation is one the fake opened, and
  the card: one Adaptive Card attachment, schema version 1.4 (Universal Actions need
  it), element and action types Teams knows, every ``Action.Execute`` with a verb and
  data, every ``Action.OpenUrl`` an absolute URL; an update names an activity the fake
  gave out. It answers as Bot Connector does (``{"id": …}``) or as a test scripted (a
  429 with Retry-After, a 403).

Each test claims what it expects (``expect``); at teardown anything nobody claimed fails
the test: a duplicate page, an update nobody expected, a call that should not happen.
"""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qs, urlsplit

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

from tests.fakes.loopback import LoopbackServer, take

APP_ID = "00000000-0000-4000-8000-00000000a991"
APP_PASSWORD = "teams-app-password"
TENANT_ID = "11111111-1111-4111-8111-111111111111"
BOT_ID = f"28:{APP_ID}"
ISSUER = "https://api.botframework.com"
KEY_ID = "fake-bot-connector-key"
ELEMENTS = {"TextBlock", "FactSet", "ColumnSet", "Container", "Image"}
ACTIONS = {"Action.Execute", "Action.OpenUrl"}


@dataclass(frozen=True)
class Received:
    method: str  # "send", "reply" or "update"
    conversation_id: str
    activity_id: str | None
    body: dict[str, Any]
    # When it arrived (``time.monotonic``), for the benchmark.
    at: float = field(default_factory=time.monotonic, compare=False)

    @property
    def card(self) -> dict[str, Any]:
        return dict(self.body["attachments"][0]["content"])

    @property
    def text(self) -> str:
        return str(self.body.get("text") or "")

    def card_text(self) -> str:
        return json.dumps(self.card)

    def verbs(self) -> list[str]:
        return [a["verb"] for a in self.card.get("actions", []) if a["type"] == "Action.Execute"]


def card_problem(body: Any) -> str | None:
    if not isinstance(body, dict) or body.get("type") != "message":
        return "not a message activity"
    attachments = body.get("attachments")
    if attachments is None and body.get("text"):
        return None  # a plain text reply
    if not isinstance(attachments, list) or len(attachments) != 1:
        return "a message carries one card"
    attachment = attachments[0]
    if attachment.get("contentType") != "application/vnd.microsoft.card.adaptive":
        return f"not an Adaptive Card: {attachment.get('contentType')}"
    card = attachment.get("content") or {}
    if card.get("type") != "AdaptiveCard" or card.get("version") != "1.4":
        return f"card type/version {card.get('type')} {card.get('version')}"
    for element in card.get("body", []):
        if element.get("type") not in ELEMENTS:
            return f"unknown element {element.get('type')}"
    for action in card.get("actions", []):
        kind = action.get("type")
        if kind not in ACTIONS:
            return f"unknown action {kind}"
        if kind == "Action.Execute" and (
            not action.get("verb") or not isinstance(action.get("data"), dict)
        ):
            return f"an Action.Execute without verb or data: {action}"
        if kind == "Action.OpenUrl":
            url = urlsplit(str(action.get("url", "")))
            if url.scheme not in ("http", "https") or not url.netloc:
                return f"not an absolute URL: {action.get('url')}"
    return None


class FakeBotConnector:
    def __init__(self) -> None:
        self.received: deque[Received] = deque()
        self.problems: list[str] = []
        self.script: deque[tuple[int, dict[str, str]]] = deque()
        self.conversations: set[str] = set()
        self.tokens_issued = 0
        self._tokens: set[str] = set()
        self._activity = 0
        self._given: set[str] = set()
        self._lock = threading.Lock()
        self._key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self._http = LoopbackServer(self._handler())

    @property
    def service_url(self) -> str:
        return f"{self._http.origin}/"

    @property
    def token_url(self) -> str:
        return f"{self._http.origin}/token"

    @property
    def keys_url(self) -> str:
        return f"{self._http.origin}/keys"

    def start(self) -> None:
        self._http.start()

    def stop(self) -> None:
        self._http.stop()

    def open_conversation(self, conversation_id: str) -> None:
        with self._lock:
            self.conversations.add(conversation_id)

    def answer(self, status: int, headers: dict[str, str] | None = None) -> None:
        """The next conversation call is answered ``status`` instead."""
        with self._lock:
            self.script.append((status, headers or {}))

    def sign(self, **overrides: Any) -> str:
        """A token as Bot Connector signs its requests to a bot (overrides change claims;
        ``key`` signs with another key)."""
        now = int(time.time())
        claims: dict[str, Any] = {
            "iss": ISSUER,
            "aud": APP_ID,
            "nbf": now - 5,
            "exp": now + 3600,
            "serviceurl": self.service_url,
        }
        key = overrides.pop("key", self._key)
        claims.update(overrides)
        return jwt.encode(claims, key, algorithm="RS256", headers={"kid": KEY_ID})

    def expect(self, method: str, *, conversation_id: str | None = None) -> Received:
        return take(
            self._lock,
            self.received,
            lambda r: (
                r.method == method
                and (conversation_id is None or r.conversation_id == conversation_id)
            ),
            f"no {method} arrived",
        )

    def all_received(self) -> list[Received]:
        """Everything received so far, unclaimed (for the benchmark, which claims nothing)."""
        with self._lock:
            return list(self.received)

    def unexpected(self) -> list[Any]:
        with self._lock:
            return [*self.received, *self.problems]

    def _jwks(self) -> dict[str, Any]:
        public = json.loads(RSAAlgorithm.to_jwk(self._key.public_key()))
        return {"keys": [{**public, "kid": KEY_ID, "use": "sig", "alg": "RS256"}]}

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                return

            def _reply(
                self, status: int, body: Any = None, headers: dict[str, str] | None = None
            ) -> None:
                raw = json.dumps(body).encode() if body is not None else b""
                self.send_response(status)
                for name, value in (headers or {}).items():
                    self.send_header(name, value)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)

            def do_GET(self) -> None:
                if self.path == "/keys":
                    self._reply(200, fake._jwks())
                    return
                with fake._lock:
                    fake.problems.append(f"GET {self.path}")
                self._reply(404, {"error": "not found"})

            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                if self.path == "/token":
                    self._token_grant(raw)
                    return
                self._conversation("POST", raw)

            def do_PUT(self) -> None:
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                self._conversation("PUT", raw)

            def _token_grant(self, raw: bytes) -> None:
                form = {k: v[-1] for k, v in parse_qs(raw.decode()).items()}
                expected = {
                    "grant_type": "client_credentials",
                    "client_id": APP_ID,
                    "client_secret": APP_PASSWORD,
                    "scope": f"{ISSUER}/.default",
                }
                if form != expected:
                    with fake._lock:
                        fake.problems.append(f"token request {form}")
                    self._reply(401, {"error": "invalid_client"})
                    return
                with fake._lock:
                    fake.tokens_issued += 1
                    token = f"connector-token-{fake.tokens_issued}"
                    fake._tokens.add(token)
                self._reply(
                    200, {"token_type": "Bearer", "expires_in": 3600, "access_token": token}
                )

            def _conversation(self, verb: str, raw: bytes) -> None:
                parts = urlsplit(self.path).path.strip("/").split("/")
                problem = None
                if len(parts) not in (4, 5) or parts[:2] != ["v3", "conversations"]:
                    problem = f"{verb} {self.path}"
                conversation_id = parts[2] if len(parts) > 2 else ""
                activity_id = parts[4] if len(parts) == 5 else None
                try:
                    body = json.loads(raw)
                except ValueError:
                    body, problem = None, "not JSON"
                with fake._lock:
                    scheme, _, token = (self.headers.get("Authorization") or "").partition(" ")
                    if scheme != "Bearer" or token not in fake._tokens:
                        problem = f"bad token {self.headers.get('Authorization')}"
                    elif conversation_id not in fake.conversations:
                        problem = f"no conversation {conversation_id}"
                    elif verb == "PUT" and activity_id not in fake._given:
                        problem = f"an update of an activity never sent: {activity_id}"
                    problem = problem or card_problem(body)
                    if problem:
                        fake.problems.append(problem)
                        scripted = None
                    else:
                        scripted = fake.script.popleft() if fake.script else None
                        method = "update" if verb == "PUT" else "reply" if activity_id else "send"
                        fake.received.append(Received(method, conversation_id, activity_id, body))
                    if verb == "POST":
                        fake._activity += 1
                        new_id = f"1:activity-{fake._activity}"
                        fake._given.add(new_id)
                    else:
                        new_id = str(activity_id)
                if problem:
                    self._reply(400, {"error": {"code": "BadArgument", "message": problem}})
                elif scripted is not None:
                    status, headers = scripted
                    self._reply(status, {"error": {"code": "Scripted"}}, headers)
                else:
                    self._reply(200 if verb == "PUT" else 201, {"id": new_id})

        return Handler
