"""A loopback HTTP endpoint that records the requests it gets: the far end of a Prefect webhook block."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Receiver:
    url: str
    requests: list[tuple[str, Any]] = field(default_factory=list)

    def wait_for(self, count: int, timeout: float = 120.0) -> list[tuple[str, Any]]:
        """The first `count` requests; fails (not hangs) when they do not come within `timeout` seconds."""
        deadline = time.monotonic() + timeout
        while len(self.requests) < count and time.monotonic() < deadline:
            time.sleep(0.2)
        assert len(self.requests) >= count, f"expected {count} requests, got {self.requests}"
        return self.requests[:count]


@contextmanager
def http_receiver() -> Iterator[Receiver]:
    receiver = Receiver("")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            try:
                parsed: Any = json.loads(body)
            except ValueError:
                parsed = body.decode(errors="replace")
            receiver.requests.append((self.path, parsed))
            self.send_response(200)
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    receiver.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()
