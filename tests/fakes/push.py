"""A fake push service (what FCM, Mozilla's autopush and Apple's service do for a
browser) on 127.0.0.1, strict like the other fakes.

It holds the browser's side of each subscription it hands out (a P-256 key pair and the
16-byte auth secret), so it can do what the browser would: *decrypt* each push with
``http_ece`` (aes128gcm). It checks every request as a push service does: a VAPID
``Authorization: vapid t=<JWT>, k=<key>`` whose ES256 signature verifies with ``k``,
whose ``k`` is tocsin's public key, whose audience is the service's origin and whose
expiry is in the future and under 24 hours; ``Content-Encoding: aes128gcm``; ``TTL``;
``Urgency`` and ``Topic`` within RFC 8030. It answers 201, or as scripted per
subscription (410 Gone, 429 with Retry-After). Each test claims the pushes it expects;
an unclaimed push fails the test at teardown.
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

import http_ece
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

from tests.fakes.loopback import LoopbackServer, take

TOPIC = re.compile(r"^[A-Za-z0-9_-]{1,32}$")
URGENCIES = {"very-low", "low", "normal", "high"}


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass(frozen=True)
class Subscription:
    """What ``PushSubscription.toJSON()`` gives a page."""

    id: str
    endpoint: str
    p256dh: str
    auth: str

    def form(self) -> dict[str, str]:
        return {"endpoint": self.endpoint, "p256dh": self.p256dh, "auth": self.auth}


@dataclass(frozen=True)
class Push:
    subscription_id: str
    payload: dict[str, Any]
    headers: dict[str, str]


class FakePushService:
    def __init__(self) -> None:
        self.pushes: deque[Push] = deque()
        self.problems: list[str] = []
        self.received_at: list[tuple[str, float]] = []
        # tocsin's VAPID public key, as ``/push/key`` gives it: set by the test.
        self.application_server_key: str | None = None
        self._keys: dict[str, tuple[ec.EllipticCurvePrivateKey, bytes]] = {}
        self._scripts: dict[str, deque[tuple[int, dict[str, str]]]] = {}
        self._lock = threading.Lock()
        self._http = LoopbackServer(self._handler())

    @property
    def origin(self) -> str:
        return self._http.origin

    def start(self) -> None:
        self._http.start()

    def stop(self) -> None:
        self._http.stop()

    def subscription(self) -> Subscription:
        """A new subscription, as the browser's push service would hand it out."""
        private = ec.generate_private_key(ec.SECP256R1())
        auth = secrets.token_bytes(16)
        sid = secrets.token_hex(8)
        with self._lock:
            self._keys[sid] = (private, auth)
        public = private.public_key().public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
        )
        return Subscription(sid, f"{self.origin}/push/{sid}", b64url(public), b64url(auth))

    def answer(self, subscription: Subscription, status: int, **headers: str) -> None:
        with self._lock:
            self._scripts.setdefault(subscription.id, deque()).append((status, headers))

    def expect(self, subscription: Subscription) -> Push:
        return take(
            self._lock,
            self.pushes,
            lambda push: push.subscription_id == subscription.id,
            f"no push to {subscription.id}",
        )

    def unexpected(self) -> list[Any]:
        with self._lock:
            return [*self.pushes, *self.problems]

    def _vapid_problem(self, authorization: str, origin: str) -> str | None:
        match = re.fullmatch(r"vapid t=([\w.-]+),\s*k=([\w-]+)", authorization)
        if match is None:
            return f"no VAPID authorization: {authorization!r}"
        token, key = match.groups()
        if key != self.application_server_key:
            return "signed with another key than the one browsers subscribed to"
        head, claims_part, signature = token.split(".")
        public = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), unb64url(key))
        raw = unb64url(signature)
        der = encode_dss_signature(int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big"))
        try:
            public.verify(der, f"{head}.{claims_part}".encode(), ec.ECDSA(hashes.SHA256()))
        except InvalidSignature:
            return "VAPID signature does not verify"
        if json.loads(unb64url(head)).get("alg") != "ES256":
            return "VAPID JWT is not ES256"
        claims = json.loads(unb64url(claims_part))
        if claims.get("aud") != origin:
            return f"VAPID audience {claims.get('aud')} is not {origin}"
        left = int(claims.get("exp", 0)) - time.time()
        if not 0 < left <= 24 * 3600:
            return f"VAPID expiry {left:.0f} s away"
        if not str(claims.get("sub", "")).startswith(("mailto:", "https:")):
            return f"VAPID subject {claims.get('sub')}"
        return None

    def _receive(
        self, path: str, headers: dict[str, str], body: bytes
    ) -> tuple[int, dict[str, str]]:
        sid = path.rsplit("/", 1)[-1]
        with self._lock:
            keys = self._keys.get(sid)
            script = self._scripts.get(sid)
            scripted = script.popleft() if script else None
        if keys is None:
            return 404, {}
        problem = self._vapid_problem(headers.get("authorization", ""), self.origin)
        if headers.get("content-encoding") != "aes128gcm":
            problem = problem or f"Content-Encoding {headers.get('content-encoding')}"
        if not headers.get("ttl", "").isdigit():
            problem = problem or f"TTL {headers.get('ttl')}"
        if headers.get("urgency") not in URGENCIES:
            problem = problem or f"Urgency {headers.get('urgency')}"
        if "topic" in headers and not TOPIC.match(headers["topic"]):
            problem = problem or f"Topic {headers['topic']}"
        if len(body) > 4096:
            problem = problem or f"payload of {len(body)} bytes"
        if problem is None:
            try:
                plain = http_ece.decrypt(
                    body, private_key=keys[0], auth_secret=keys[1], version="aes128gcm"
                )
                payload = json.loads(plain)
            except Exception as error:
                problem = f"cannot decrypt: {error!r}"
        with self._lock:
            if problem is not None:
                self.problems.append(problem)
                return 400, {}
            if scripted is not None:
                return scripted
            self.pushes.append(Push(sid, payload, headers))
            self.received_at.append((sid, time.monotonic()))
        return 201, {"Location": f"{self.origin}/message/{secrets.token_hex(8)}"}

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                return

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                headers = {k.lower(): v for k, v in self.headers.items()}
                status, extra = fake._receive(self.path, headers, body)
                self.send_response(status)
                for name, value in extra.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", "0")
                self.end_headers()

        return Handler
