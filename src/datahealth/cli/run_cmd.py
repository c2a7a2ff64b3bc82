"""`datahealth run` and `datahealth status`: run the monitor and show what it found."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

import datahealth.core.envdefaults  # noqa: F401
from datahealth.cli.app import app
from datahealth.cli.common import (
    EXIT_FAILED,
    FormatOption,
    ProjectOption,
    console,
    err_console,
    fail,
    handled_errors,
    open_project,
    open_store,
)
from datahealth.cli.progress import StepProgress
from datahealth.cli.render import rows_as_json, status_rows, status_table
from datahealth.core.results import DatasetResult, Status
from datahealth.core.run import RunSummary
from datahealth.core.timeparse import parse_as_of
from datahealth.core.wording import plural
from datahealth.monitor.runner import add_progress_listener, remove_progress_listener, run_monitor
from datahealth.orchestration.planning import select_for_run
from datahealth.orchestration.temporary_server import TemporaryServer, launch_temporary_server

FAIL_LEVELS = {"never": None, "unknown": Status.UNKNOWN, "fail": Status.FAIL, "warn": Status.WARN}


@app.command()
def run(
    project: ProjectOption = Path("."),
    dataset: Annotated[
        list[str] | None, typer.Option("--dataset", "-d", help="Glob on <source>.<dataset>; repeatable.")
    ] = None,
    tier: Annotated[str | None, typer.Option(help="Only datasets of this tier (and its stages).")] = None,
    as_of: Annotated[
        str | None, typer.Option("--as-of", help="Evaluate as of this ISO time (backfills, tests).")
    ] = None,
    prefect: Annotated[
        bool,
        typer.Option(
            "--prefect/--no-prefect",
            help="Run as a Prefect flow (ephemeral server when PREFECT_API_URL is unset).",
        ),
    ] = True,
    publish: Annotated[
        bool, typer.Option("--publish/--no-publish", help="Push metrics, alerts and reports.")
    ] = True,
    fail_on: Annotated[
        str, typer.Option(help="Exit 1 when any dataset is at least: never, unknown, fail or warn.")
    ] = "never",
    output: FormatOption = "table",
) -> None:
    """Observe, profile and check the datasets now (or --as-of a time), store and publish the results."""
    with handled_errors():
        fail_on = "unknown" if fail_on == "error" else fail_on  # the status word before 0.x: still accepted
        if fail_on not in FAIL_LEVELS:
            raise ValueError(f"--fail-on must be one of {', '.join(FAIL_LEVELS)}")
        loaded = open_project(project)
        selected = select_for_run(loaded, dataset, tier)
        parse_as_of(as_of)  # a bad --as-of is one line here, before any run is recorded
        server = None
        if prefect:  # the monitor's own failures (history store) as one line, not a Prefect traceback
            open_store(loaded).close()
            server = launch_temporary_server()  # starts beside the flow's imports; awaited before the flow
        summary = _run_with_progress(
            loaded.root, dataset, tier, as_of, prefect, server, publish, len(selected), quiet=output == "json"
        )
    if output == "json":
        console.print_json(json.dumps(summary.to_dict(), default=str))
    else:
        with handled_errors():
            store = open_store(loaded)
            try:
                rows = [r for r in status_rows(loaded, store) if r.dataset in {d.name for d in selected}]
            finally:
                store.close()
        console.print(
            status_table(rows, title=f"Data health as of {summary.as_of[:16].replace('T', ' ')} UTC")
        )
        _print_summary(summary)
    threshold = FAIL_LEVELS[fail_on]
    if threshold is not None and any(Status(d.status).rank >= threshold.rank for d in summary.datasets):
        raise typer.Exit(EXIT_FAILED)


def starting_message(prefect: bool, temporary_server: bool) -> str:
    """What `run` says before its first dataset: a temporary Prefect server takes most of a short run."""
    if not prefect:
        return "starting"
    if temporary_server:
        return "starting a temporary Prefect server (set PREFECT_API_URL to use yours, or --no-prefect)"
    return "starting the Prefect flow on the server in PREFECT_API_URL"


def _run_with_progress(
    root: Path,
    patterns: list[str] | None,
    tier: str | None,
    as_of: str | None,
    prefect: bool,
    server: TemporaryServer | None,
    publish: bool,
    total: int,
    quiet: bool,
) -> RunSummary:
    progress = StepProgress(err_console, total, starting_message(prefect, server is not None), quiet=quiet)
    started = time.perf_counter()
    first_result: list[float] = []

    def advance(result: DatasetResult) -> None:
        if not first_result:
            first_result.append(time.perf_counter() - started)
            if server is not None and not quiet:
                progress.say(
                    f"the temporary Prefect server and the flow took {first_result[0]:.1f}s to start "
                    "(set PREFECT_API_URL to a running server to skip this)"
                )
        progress.step(f"observed {result.dataset}")

    add_progress_listener(advance)
    try:
        with progress:
            if prefect:
                from datahealth.orchestration.flow import data_health

                if server is not None:
                    server.ready()
                state = data_health(
                    project_dir=str(root),
                    datasets=patterns,
                    tier=tier,
                    as_of=as_of,
                    publish=publish,
                    return_state=True,
                )
                if not state.is_completed():  # the monitor itself failed: its message is the reason and fix
                    raise fail(state.message or f"the Prefect flow run ended {state.name}")
                return RunSummary.from_dict(state.result())
            from datahealth.orchestration.planning import run_options

            project = open_project(root)
            return run_monitor(
                project, patterns, tier=tier, as_of=as_of, options=run_options(project, tier, publish)
            )
    finally:
        remove_progress_listener(advance)


def _print_summary(summary: RunSummary) -> None:
    counts = ", ".join(f"{v} {k}" for k, v in summary.counts.items() if v)
    console.print(
        f"Run {summary.run_id[:8]}: {plural(len(summary.datasets), 'dataset')} in {summary.duration_seconds:.1f}s; "
        f"{counts}; health score {summary.health_score:.0f}/100"
    )
    for item in summary.errored:
        console.print(
            f"  [bold red]error[/] {escape(item.dataset)}: {escape(item.error or '')}", highlight=False
        )
    for warning in summary.warnings:
        console.print(f"  [yellow]warning[/] {escape(warning)}", highlight=False)


@app.command()
def status(
    project: ProjectOption = Path("."),
    output: FormatOption = "table",
    as_of: Annotated[
        str | None,
        typer.Option(
            "--as-of", help="The state as of this ISO time: the newest runs by then, incidents open then."
        ),
    ] = None,
) -> None:
    """Every dataset's latest state from the history store (no queries against the data)."""
    with handled_errors():
        loaded = open_project(project, source_secrets=False)
        when = parse_as_of(as_of) if as_of else None
        store = open_store(loaded)
        try:
            rows = status_rows(loaded, store, as_of=when)
        finally:
            store.close()
    if output == "json":
        print(json.dumps(rows_as_json(rows), indent=2, default=str))
    elif output == "table":
        title = "Data health" if when is None else f"Data health as of {when:%Y-%m-%d %H:%M} UTC"
        console.print(status_table(rows, title=title))
    else:
        raise typer.Exit(EXIT_FAILED)
