"""`datahealth serve-report`: the reports directory over HTTP on loopback, for local use."""

from __future__ import annotations

import contextlib
import signal
import threading
from pathlib import Path
from types import FrameType
from typing import Annotated

import typer

import datahealth.core.envdefaults  # noqa: F401
from datahealth.cli.app import app
from datahealth.cli.common import ProjectOption, err_console, fail, handled_errors, open_project


@app.command("serve-report")
def serve_report(
    project: ProjectOption = Path("."),
    host: Annotated[
        str, typer.Option(help="Address to bind; loopback unless you mean to expose it.")
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=0, max=65535, help="TCP port.")] = 8765,
) -> None:
    """Serve the rendered reports at http://HOST:PORT/ so report links from the Prefect UI open.

    Set `publish.report.base_url: http://127.0.0.1:8765/` in sla_config and the flow's report artifact
    links here instead of to a file:// URL (which browsers refuse to open from a web page).
    """
    from datahealth.report.serve import serve_reports

    with handled_errors():
        loaded = open_project(project)
        directory = loaded.resolve(loaded.config.publish.report.directory)
    directory.mkdir(parents=True, exist_ok=True)
    with contextlib.ExitStack() as stack:
        try:
            server = stack.enter_context(serve_reports(directory, host, port))
        except OSError as exc:
            raise fail(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
        stop = threading.Event()

        def _stop(_signum: int, _frame: FrameType | None) -> None:
            stop.set()

        signal.signal(signal.SIGTERM, _stop)
        signal.signal(signal.SIGINT, _stop)
        err_console.print(
            f"Serving {directory} on http://{host}:{server.server_port}/ (Ctrl-C to stop)", highlight=False
        )
        stop.wait()
