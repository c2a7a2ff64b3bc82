"""`datahealth report`: render the HTML data-health report from the history store (and email it)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

import datahealth.core.envdefaults  # noqa: F401
from datahealth.cli.app import app
from datahealth.cli.common import (
    EXIT_FAILED,
    ProjectOption,
    console,
    err_console,
    handled_errors,
    open_project,
    open_store,
    writable_output,
)
from datahealth.core.timeparse import parse_as_of
from datahealth.core.wording import plural


@app.command()
def report(
    project: ProjectOption = Path("."),
    email: Annotated[
        bool, typer.Option("--email", help="Also email it (SMTP settings in publish.email).")
    ] = False,
    output: Annotated[
        Path | None,
        typer.Option(
            "--output", "-o", help="Write to this file (or directory) instead of the report directory."
        ),
    ] = None,
    as_of: Annotated[str | None, typer.Option("--as-of", help="Show the state as of this ISO time.")] = None,
    dry_run: Annotated[
        bool,
        typer.Option(
            "--dry-run",
            help="With --email: write the email as <report>.eml next to the report (or in -o DIR) "
            "instead of sending it.",
        ),
    ] = False,
) -> None:
    """Render the data-health report from the history store (no query touches the monitored data).

    Writes reports/data-health-<as-of>.html and reports/latest.html."""
    from datahealth.publish.email import EmailError, send_report_email, write_report_email
    from datahealth.report import render_project_report

    failed = False
    writable_output(output)
    with handled_errors():
        loaded = open_project(project, source_secrets=False)
        store = open_store(loaded)
        try:
            built = render_project_report(
                loaded, store, as_of=parse_as_of(as_of) if as_of else None, output=output
            )
            shown = built.files.latest or built.files.path
            console.print(
                f"Report: {shown} ({built.files.size / 1e6:.1f} MB, {plural(len(built.data.datasets), 'dataset')})",
                highlight=False,
            )
            if email and dry_run:
                eml = write_report_email(loaded, built, built.files.path.parent)
                console.print(f"Email written (not sent): {eml}", highlight=False)
            elif email:
                try:
                    outcome = send_report_email(loaded, store, built)
                except EmailError as exc:
                    err_console.print(f"[yellow]warning[/] email: {exc}", highlight=False)
                    failed = True
                else:
                    for note in outcome.notes:
                        console.print(note, highlight=False)
                    for warning in outcome.warnings:
                        err_console.print(f"[yellow]warning[/] {warning}", highlight=False)
                    failed = outcome.pending > 0 or outcome.given_up > 0
                    if outcome.sent:
                        console.print(f"Emailed {plural(outcome.sent, 'report email')}.")
        finally:
            store.close()
    if failed:
        raise typer.Exit(EXIT_FAILED)
