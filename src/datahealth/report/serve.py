"""Serve the reports directory over HTTP on loopback, so report links in the Prefect UI open locally.

Browsers refuse `file://` links from an http page (the Prefect UI); with `publish.report.base_url` set
to this server's URL the artifacts link here instead. Read-only, static files only, no directory
listing outside the reports directory.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from datahealth.core.serving import LISTEN_BACKLOG, serving_in_background


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        return  # one line per request would drown the terminal; the browser shows what failed


@contextmanager
def serve_reports(
    directory: Path, host: str = "127.0.0.1", port: int = 8765
) -> Iterator[ThreadingHTTPServer]:
    """Serve `directory` at http://host:port/ in a background thread until the block ends."""
    handler = partial(_QuietHandler, directory=str(directory))
    server_class = type("ReportServer", (ThreadingHTTPServer,), {"request_queue_size": LISTEN_BACKLOG})
    server = server_class((host, port), handler)
    with serving_in_background(server, "datahealth-serve-report"):
        yield server
