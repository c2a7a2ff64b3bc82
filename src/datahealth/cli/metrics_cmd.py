"""`datahealth serve-metrics` (a `/metrics` endpoint over the history store) and `datahealth metrics` (print it)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

import datahealth.core.envdefaults  # noqa: F401
from datahealth.cli.app import app
from datahealth.cli.common import (
    ProjectOption,
    handled_errors,
    open_project,
    open_store,
    serve_until_stopped,
)


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
        serve_until_stopped(
            lambda: start(loaded, store, host, port),
            host,
            port,
            lambda bound: (
                f"Serving metrics of {loaded.config.project.name} on "
                f"http://{host}:{bound}/metrics (Ctrl-C to stop)"
            ),
        )
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
