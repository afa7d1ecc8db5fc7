"""A fake ntfy server on 127.0.0.1 implementing the JSON publish API (``POST /`` with the
topic in the body), strict like the other fakes.

It checks what ntfy would: a known topic (and its access token, where the topic is
protected), a message, a priority from 1 to 5, tags as a list, ``click`` and every
action's ``url`` absolute, action types ntfy knows (``view``, ``http``, ``broadcast``)
and at most three of them. It answers 200 with the message's id, like ntfy, or as
scripted per topic. Each test claims the messages it expects; an unclaimed one fails the
test at teardown.
"""

from __future__ import annotations

import json
import secrets
import threading
import time
from collections import deque
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler
from typing import Any

from tests.fakes.loopback import LoopbackServer, take

ACTIONS = {"view", "http", "broadcast"}


@dataclass(frozen=True)
class Published:
    topic: str
    body: dict[str, Any]
    authorization: str


class FakeNtfy:
    def __init__(self) -> None:
        self.messages: deque[Published] = deque()
        self.problems: list[str] = []
        self.received_at: list[tuple[str, float]] = []
        self._tokens: dict[str, str | None] = {}
        self._scripts: dict[str, deque[int]] = {}
        self._lock = threading.Lock()
        self._http = LoopbackServer(self._handler())

    def start(self) -> None:
        self._http.start()

    def stop(self) -> None:
        self._http.stop()

    def topic(self, name: str, *, token: str | None = None) -> str:
        """A topic on this server (protected by ``token``); its URL."""
        with self._lock:
            self._tokens[name] = token
        return f"{self._http.origin}/{name}"

    def answer(self, topic: str, status: int) -> None:
        with self._lock:
            self._scripts.setdefault(topic, deque()).append(status)

    def expect(self, topic: str) -> Published:
        return take(self._lock, self.messages, lambda m: m.topic == topic, f"nothing on {topic}")

    def unexpected(self) -> list[Any]:
        with self._lock:
            return [*self.messages, *self.problems]

    def _problem(self, body: Any, authorization: str) -> str | None:
        if not isinstance(body, dict):
            return "not a JSON object"
        topic = body.get("topic")
        if topic not in self._tokens:
            return f"unknown topic {topic}"
        token = self._tokens[topic]
        if token is not None and authorization != f"Bearer {token}":
            return None  # answered 403 below, as ntfy does
        if not isinstance(body.get("message"), str) or not body["message"]:
            return "no message"
        if body.get("priority") not in (1, 2, 3, 4, 5):
            return f"priority {body.get('priority')}"
        if not isinstance(body.get("tags", []), list):
            return "tags is not a list"
        if "click" in body and not str(body["click"]).startswith(("http://", "https://")):
            return f"click {body['click']}"
        actions = body.get("actions", [])
        if len(actions) > 3:
            return "more than three actions"
        for action in actions:
            if action.get("action") not in ACTIONS or not action.get("label"):
                return f"action {action}"
            if not str(action.get("url", "")).startswith(("http://", "https://")):
                return f"action url {action.get('url')}"
        return None

    def _receive(self, path: str, raw: bytes, authorization: str) -> tuple[int, dict[str, Any]]:
        if path != "/":
            return 404, {"error": "publish to /"}
        try:
            body = json.loads(raw)
        except ValueError:
            body = None
        with self._lock:
            problem = self._problem(body, authorization)
            if problem is not None:
                self.problems.append(problem)
                return 400, {"code": 40000, "error": problem}
            assert isinstance(body, dict)
            topic = body["topic"]
            token = self._tokens[topic]
            if token is not None and authorization != f"Bearer {token}":
                return 403, {"code": 40301, "error": "forbidden"}
            script = self._scripts.get(topic)
            if script:
                return script.popleft(), {"code": 42901, "error": "scripted"}
            self.messages.append(Published(topic, body, authorization))
            self.received_at.append((topic, time.monotonic()))
        return 200, {"id": secrets.token_hex(6), "event": "message", "topic": topic}

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                return

            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                status, answer = fake._receive(
                    self.path, raw, self.headers.get("Authorization", "")
                )
                data = json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        return Handler
