"""`datahealth demo`: build the demo platform, simulate 30 days of loads and monitoring, show the result."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer

import datahealth.core.envdefaults  # noqa: F401
from datahealth.cli.app import app
from datahealth.cli.common import ProjectOption, console, err_console, handled_errors, open_project
from datahealth.cli.render import status_rows, status_table
from datahealth.config import Project
from datahealth.monitor.runner import run_monitor
from datahealth.store import HistoryStore

DEMO_DIR = "demo"


@app.command()
def demo(
    project: ProjectOption = Path("."),
    days: Annotated[int, typer.Option(min=2, max=30, help="Days to simulate.")] = 30,
    prefect: Annotated[
        bool, typer.Option("--prefect/--no-prefect", help="Run the last day through the Prefect flow.")
    ] = True,
) -> None:
    """Build a demo email-personalisation platform under demo/ and monitor 30 simulated days of it, the
    last of them today.

    Deliberate problems land on chosen days (nulls in a required column, duplicate customers, a table that
    stops loading, a drifted lake partition), so history, trends and incidents exist on the first look.
    Resets demo/ and the project's history store.
    """
    from datahealth.demo.engines import demo_target
    from datahealth.demo.platform import DEMO_FAULTS, DemoPlatform
    from datahealth.demo.timeline import first_day, run_time

    with handled_errors():
        loaded = open_project(project)
        _reset_history(loaded)
        now = datetime.now(UTC).replace(microsecond=0)
        platform = DemoPlatform(loaded.root / DEMO_DIR, start=first_day(days, now))
        platform.reset()
        started = time.perf_counter()
        with demo_target(loaded, platform) as target, console.status("simulating") as spinner:
            loaded = target.project  # the engine's copy of the project unless the warehouse is DuckDB
            for day in range(days):
                as_of = run_time(platform, day, days, now)
                platform.append_day(day, monitored_at=as_of)
                target.load_day()
                last = day == days - 1
                spinner.update(f"day {day + 1}/{days} on {target.engine}: {as_of:%a %Y-%m-%d} — monitoring")
                if last and prefect:
                    _run_flow(loaded, as_of)
                else:
                    run_monitor(loaded, as_of=as_of)
        console.print(f"Simulated {days} days in {time.perf_counter() - started:.0f}s. Faults injected:")
        for fault in DEMO_FAULTS:
            if fault.day < days:
                console.print(
                    f"  day {fault.day + 1:>2} {fault.dataset}: {fault.describe(platform.start)}",
                    highlight=False,
                )
        store = HistoryStore.open(loaded.config.history.url, loaded.root)
        try:
            console.print(status_table(status_rows(loaded, store), title="Data health after the demo"))
            from datahealth.report import render_project_report

            report = render_project_report(loaded, store)
        finally:
            store.close()
        console.print(f"Report: {Path(report.files.latest or report.files.path).resolve()}", highlight=False)
        console.print(
            "Next: `datahealth status`, `datahealth status --format json`, or open the report in reports/."
        )


def _reset_history(project: Project) -> None:
    url = project.config.history.url
    if url.startswith("sqlite:///"):
        path = Path(url.removeprefix("sqlite:///"))
        path = path if path.is_absolute() else project.root / path
        for suffix in ("", "-wal", "-shm"):
            candidate = path.with_name(path.name + suffix)
            if candidate.exists():
                candidate.unlink()
    else:
        err_console.print("[yellow]note[/]: the history store is not SQLite; the demo appends to it.")


def _run_flow(project: Project, as_of: datetime) -> None:
    from datahealth.orchestration.flow import data_health

    state = data_health(project_dir=str(project.root), as_of=as_of.isoformat(), return_state=True)
    state.result()
