"""Serve the reports directory over HTTP on loopback, so report links in the Prefect UI open locally.

Browsers refuse `file://` links from an http page (the Prefect UI); with `publish.report.base_url` set
to this server's URL the artifacts link here instead. Read-only, static files only, no directory
listing outside the reports directory.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        return  # one line per request would drown the terminal; the browser shows what failed


@contextmanager
def serve_reports(
    directory: Path, host: str = "127.0.0.1", port: int = 8765
) -> Iterator[ThreadingHTTPServer]:
    """Serve `directory` at http://host:port/ in a background thread until the block ends."""
    handler = partial(_QuietHandler, directory=str(directory))
    server = ThreadingHTTPServer((host, port), handler)
    thread = threading.Thread(target=server.serve_forever, name="datahealth-serve-report", daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
