"""`datahealth serve-metrics` (a `/metrics` endpoint over the history store) and `datahealth metrics` (print it)."""

from __future__ import annotations

import contextlib
import signal
import sys
import threading
from pathlib import Path
from types import FrameType
from typing import Annotated

import typer

import datahealth.core.envdefaults  # noqa: F401
from datahealth.cli.app import app
from datahealth.cli.common import ProjectOption, err_console, fail, handled_errors, open_project, open_store


@app.command("serve-metrics")
def serve_metrics(
    project: ProjectOption = Path("."),
    host: Annotated[
        str, typer.Option(help="Address to bind; loopback unless you mean to expose it.")
    ] = "127.0.0.1",
    port: Annotated[
        int, typer.Option(min=0, max=65535, help="TCP port (9108 is datahealth's customary port).")
    ] = 9108,
) -> None:
    """Serve Prometheus metrics at http://HOST:PORT/metrics, read from the history store on every scrape.

    Point a Prometheus scrape job at it instead of (not as well as) a Pushgateway; see docs/metrics.md.
    """
    from datahealth.publish.prometheus.exporter import serve_metrics as start

    with handled_errors():
        loaded = open_project(project)
        store = open_store(loaded)
    try:
        with contextlib.ExitStack() as stack:
            try:
                server = stack.enter_context(start(loaded, store, host, port))
            except OSError as exc:
                raise fail(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
            stop = threading.Event()

            def _stop(_signum: int, _frame: FrameType | None) -> None:
                stop.set()

            signal.signal(signal.SIGTERM, _stop)
            signal.signal(signal.SIGINT, _stop)
            err_console.print(
                f"Serving metrics of {loaded.config.project.name} on "
                f"http://{host}:{server.server_port}/metrics (Ctrl-C to stop)",
                highlight=False,
            )
            stop.wait()
    finally:
        store.close()


@app.command("metrics")
def metrics(project: ProjectOption = Path(".")) -> None:
    """Print the metrics `serve-metrics` would serve right now (text exposition format)."""
    from datahealth.publish.prometheus.publisher import render
    from datahealth.publish.prometheus.state import state_from_store

    with handled_errors():
        loaded = open_project(project)
        store = open_store(loaded)
        try:
            payload = render(state_from_store(loaded, store))
        finally:
            store.close()
    sys.stdout.write(payload.decode())
