"""What the HTTP fakes share: a threaded HTTP server on 127.0.0.1 on a free port, over
TLS for a vendor SDK that only speaks HTTPS (Vonage's)."""

from __future__ import annotations

import ssl
import threading
import time
from collections import deque
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TypeVar

T = TypeVar("T")


class _Server(ThreadingHTTPServer):
    # socketserver's default listen backlog is 5: a burst of concurrent sends (a
    # benchmark, a storm test) would see SYNs dropped and retried a second later, and
    # measure the fake instead of tocsin.
    request_queue_size = 256
    daemon_threads = True


class LoopbackServer:
    def __init__(
        self, handler: type[BaseHTTPRequestHandler], *, tls: ssl.SSLContext | None = None
    ) -> None:
        self._server = _Server(("127.0.0.1", 0), handler)
        self._scheme = "https" if tls else "http"
        if tls is not None:
            self._server.socket = tls.wrap_socket(self._server.socket, server_side=True)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    @property
    def origin(self) -> str:
        return f"{self._scheme}://127.0.0.1:{self.port}"

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()


def take(lock: threading.Lock, items: deque[T], matches: Callable[[T], bool], missing: str) -> T:
    """The first received item that ``matches``, removed (claimed), waiting up to 5 s for
    it to arrive; ``missing`` says what did not."""
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        with lock:
            for item in list(items):
                if matches(item):
                    items.remove(item)
                    return item
        time.sleep(0.01)
    raise AssertionError(f"{missing}; received: {list(items)}")
