"""serve-metrics under a flood: 2,000 scrapes, 50 at a time, on loopback, every one answered.

With socketserver's default listen backlog of 5 the same flood lost connections (refused, reset, or left
to the client's SYN retries): the test checks the backlog the kernel really holds, then the flood.
"""

from __future__ import annotations

import socket
import subprocess
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from datahealth.config import load_project
from datahealth.core.serving import LISTEN_BACKLOG
from datahealth.publish.prometheus.exporter import serve_metrics
from datahealth.store import HistoryStore
from tests.support.projects import write_project

REQUESTS, PARALLEL = 2_000, 50


def kernel_backlog(port: int) -> int:
    """The listen backlog the kernel holds for a listening port: `ss`'s Send-Q column (iproute2)."""
    listed = subprocess.run(
        ["ss", "-ltnH", f"sport = :{port}"], capture_output=True, text=True, check=True
    ).stdout.split()
    return int(listed[2])  # State Recv-Q Send-Q Local Peer


def test_two_thousand_scrapes_fifty_in_parallel_all_answered(tmp_path: Path) -> None:
    root = write_project(tmp_path, {"wh": {"kind": "sql", "url": "sqlite:///wh.db"}}, {"wh.orders": {}})
    project = load_project(root)
    store = HistoryStore.open(project.config.history.url, project.root)
    try:
        with serve_metrics(project, store, "127.0.0.1", 0) as server:
            assert server.socket.getsockopt(socket.SOL_SOCKET, socket.SO_ACCEPTCONN) == 1
            assert server.request_queue_size == LISTEN_BACKLOG >= 128
            assert kernel_backlog(server.server_port) >= 128  # what listen() really asked for
            url = f"http://127.0.0.1:{server.server_port}/metrics"

            def scrape(_: int) -> str:
                try:
                    with urllib.request.urlopen(url, timeout=60) as response:  # noqa: S310 - loopback
                        body = response.read().decode()
                        return "ok" if response.status == 200 and "datahealth_" in body else "bad answer"
                except OSError as exc:
                    return f"{type(exc).__name__}: {exc}"

            with ThreadPoolExecutor(PARALLEL) as pool:
                outcomes = list(pool.map(scrape, range(REQUESTS)))
    finally:
        store.close()
    failures = [o for o in outcomes if o != "ok"]
    assert len(outcomes) == REQUESTS and failures == [], failures[:5]
