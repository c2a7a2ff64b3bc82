"""`datahealth serve-report`: the reports directory over HTTP on loopback, for local use."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

import datahealth.core.envdefaults  # noqa: F401
from datahealth.cli.app import app
from datahealth.cli.common import ProjectOption, handled_errors, open_project, serve_until_stopped


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
    serve_until_stopped(
        lambda: serve_reports(directory, host, port),
        host,
        port,
        lambda bound: f"Serving {directory} on http://{host}:{bound}/ (Ctrl-C to stop)",
    )
