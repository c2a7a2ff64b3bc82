"""`datahealth demo`: build the demo platform, simulate 30 days of loads and monitoring, show the result."""

from __future__ import annotations

import time
from contextlib import ExitStack
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer

import datahealth.core.envdefaults  # noqa: F401
from datahealth.cli.app import app
from datahealth.cli.common import ProjectOption, console, err_console, handled_errors, open_project
from datahealth.cli.progress import StepProgress
from datahealth.cli.render import status_rows, status_table
from datahealth.config import Project
from datahealth.core.wording import plural
from datahealth.monitor.runner import run_monitor
from datahealth.orchestration.temporary_server import TemporaryServer, launch_temporary_server
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
    from datahealth.demo.lake_stores import demo_lake_store, requested_store
    from datahealth.demo.platform import DEMO_FAULTS
    from datahealth.demo.timeline import demo_platform, run_time

    with handled_errors(), ExitStack() as stack:
        loaded = open_project(project)
        _reset_history(loaded)
        now = datetime.now(UTC).replace(microsecond=0)
        platform = demo_platform(loaded.root / DEMO_DIR, days, now)
        platform.reset()
        # DATAHEALTH_DEMO_ENGINE: the warehouse on a stand-in (demo/engines.py); DATAHEALTH_DEMO_LAKE=s3|azure|gcs:
        # the lake on a local object-store stand-in (demo/lake_stores.py)
        target = stack.enter_context(demo_target(loaded, platform))
        loaded = target.project  # the engine's copy of the project unless the warehouse is DuckDB
        store_kind = requested_store()
        lake_store = stack.enter_context(demo_lake_store(store_kind, loaded.root)) if store_kind else None
        monitored = lake_store.project(loaded) if lake_store else loaded
        through_prefect = prefect and not lake_store  # the flow reads sla_config/ from disk
        server = launch_temporary_server() if through_prefect else None  # starts while the days load
        started = time.perf_counter()
        with StepProgress(
            err_console, days, f"simulating {plural(days, 'day')} on {target.engine}"
        ) as progress:
            for day in range(days):
                as_of = run_time(platform, day, days, now)
                platform.append_day(day, monitored_at=as_of)
                target.load_day()
                if lake_store:
                    lake_store.sync(platform.lake_root)
                last = day == days - 1
                if last and through_prefect:
                    progress.note(
                        f"day {day + 1}/{days}: {as_of:%a %Y-%m-%d} — loaded, monitoring through the Prefect "
                        "flow (starting a temporary Prefect server unless PREFECT_API_URL is set)"
                    )
                    _run_flow(loaded, as_of, server)
                else:
                    progress.note(f"day {day + 1}/{days}: {as_of:%a %Y-%m-%d} — loaded, monitoring")
                    run_monitor(monitored, as_of=as_of)
                progress.step(f"day {day + 1}/{days}: {as_of:%a %Y-%m-%d} monitored")
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


def _run_flow(project: Project, as_of: datetime, server: TemporaryServer | None) -> None:
    from datahealth.orchestration.flow import data_health

    if server is not None:
        server.ready()
    state = data_health(project_dir=str(project.root), as_of=as_of.isoformat(), return_state=True)
    state.result()
