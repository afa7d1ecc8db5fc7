"""A fake Teams Workflows webhook ("When a Teams webhook request is received") on
127.0.0.1, strict like the other fakes.

It checks what Teams would: a ``message`` with one Adaptive Card attachment, the card's
schema version (1.4 or older: Teams renders no later one from a webhook), element and
action types it knows, and that every ``Action.OpenUrl`` is an absolute http(s) URL (an
``Action.Submit`` could never reach tocsin from a webhook card). It answers 202 like a
flow that accepted the request, or as scripted. Each test claims the cards it expects;
at teardown an unclaimed card (a duplicate post) fails the test.
"""

from __future__ import annotations

import json
import threading
from collections import deque
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import urlsplit

from tests.fakes.loopback import LoopbackServer, take

ELEMENTS = {"TextBlock", "FactSet", "ColumnSet", "Container", "Image"}
VERSIONS = {"1.0", "1.1", "1.2", "1.3", "1.4"}


def card_problem(body: Any) -> str | None:
    if not isinstance(body, dict) or body.get("type") != "message":
        return "not a message"
    attachments = body.get("attachments")
    if not isinstance(attachments, list) or len(attachments) != 1:
        return "a message carries one attachment"
    attachment = attachments[0]
    if attachment.get("contentType") != "application/vnd.microsoft.card.adaptive":
        return f"not an Adaptive Card: {attachment.get('contentType')}"
    card = attachment.get("content") or {}
    if card.get("type") != "AdaptiveCard" or card.get("version") not in VERSIONS:
        return f"card type/version {card.get('type')} {card.get('version')}"
    for element in card.get("body", []):
        if element.get("type") not in ELEMENTS:
            return f"unknown element {element.get('type')}"
    for action in card.get("actions", []):
        if action.get("type") != "Action.OpenUrl":
            return f"a webhook card cannot use {action.get('type')}"
        url = urlsplit(str(action.get("url", "")))
        if url.scheme not in ("http", "https") or not url.netloc:
            return f"not an absolute URL: {action.get('url')}"
    return None


class FakeWorkflow:
    def __init__(self) -> None:
        self.cards: deque[dict[str, Any]] = deque()
        self.problems: list[str] = []
        self.script: deque[tuple[int, dict[str, str]]] = deque()
        self._lock = threading.Lock()
        self._http = LoopbackServer(self._handler())

    @property
    def url(self) -> str:
        return f"{self._http.origin}/workflows/abc/triggers/manual/paths/invoke?sig=s3cret"

    def start(self) -> None:
        self._http.start()

    def stop(self) -> None:
        self._http.stop()

    def answer(self, status: int, headers: dict[str, str] | None = None) -> None:
        with self._lock:
            self.script.append((status, headers or {}))

    def expect(self) -> dict[str, Any]:
        """The next card received (its content)."""
        return take(self._lock, self.cards, lambda card: True, "no card arrived")

    def unexpected(self) -> list[Any]:
        with self._lock:
            return [*self.cards, *self.problems]

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                return

            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with fake._lock:
                    if not self.path.endswith("sig=s3cret"):
                        fake.problems.append(f"posted to {self.path}")
                    scripted = fake.script.popleft() if fake.script else None
                    if scripted is None:
                        body = json.loads(raw)
                        problem = card_problem(body)
                        if problem:
                            fake.problems.append(problem)
                        else:
                            fake.cards.append(body["attachments"][0]["content"])
                status, headers = scripted or (202, {})
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", "0")
                self.end_headers()

        return Handler
