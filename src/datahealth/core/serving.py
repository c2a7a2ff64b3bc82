"""Run a socketserver in a background thread for the length of a `with` block (serve-metrics, serve-report)."""

from __future__ import annotations

import socketserver
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TypeVar

# The kernel's queue of connections not yet accepted: Python's default of 5 drops requests at 50 in parallel.
LISTEN_BACKLOG = 1024

Server = TypeVar("Server", bound=socketserver.BaseServer)


@contextmanager
def serving_in_background(server: Server, name: str) -> Iterator[Server]:
    """Serve until the block ends, then stop, close the socket and wait for the thread."""
    thread = threading.Thread(target=server.serve_forever, name=name, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
