"""`datahealth history DATASET`: one dataset's runs in the terminal, newest last.

Per run: its as-of time, status, rows (with a sparkline column: one bar per run, scaled over the runs
shown, so the column read downwards is the row-count trend), freshness lag and failing checks. Read from
the history store only; `--format json` gives the same rows for scripts.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from datahealth.cli.app import app
from datahealth.cli.common import (
    FormatOption,
    ProjectOption,
    console,
    fail,
    handled_errors,
    open_project,
    open_store,
)
from datahealth.cli.render import STATUS_STYLE
from datahealth.core.durations import format_duration
from datahealth.core.results import StoredObservation
from datahealth.core.wording import plural
from datahealth.store import read

BARS = "▁▂▃▄▅▆▇█"


def sparkline_cells(values: list[int | None]) -> list[str]:
    """One bar character per value, scaled between the smallest and largest (blank where unknown)."""
    known = [v for v in values if v is not None]
    if not known:
        return [" " for _ in values]
    low, high = min(known), max(known)
    span = high - low
    return [
        " " if v is None else BARS[-1] if not span else BARS[round((v - low) / span * (len(BARS) - 1))]
        for v in values
    ]


def history_rows(observations: list[StoredObservation]) -> list[dict[str, Any]]:
    return [
        {
            "as_of": o.as_of.isoformat(),
            "run_id": o.run_id,
            "status": o.status.value,
            "rows": o.row_count,
            "freshness_lag_seconds": o.freshness_lag_seconds,
            "checks_failed": o.checks_failed,
            "error": o.error,
        }
        for o in observations
    ]


@app.command()
def history(
    dataset: Annotated[str, typer.Argument(help="The dataset, as <source>.<dataset>.")],
    project: ProjectOption = Path("."),
    limit: Annotated[int, typer.Option("--limit", "-n", min=1, help="Show the newest N runs.")] = 30,
    output: FormatOption = "table",
) -> None:
    """Show DATASET's recent runs from the history store: status, rows (with a sparkline), lag, checks."""
    with handled_errors():
        loaded = open_project(project)
        if dataset not in {d.name for d in loaded.datasets}:
            raise fail(f"unknown dataset {dataset!r}: `datahealth status` lists the configured datasets")
        store = open_store(loaded)
        try:
            observations = read.observation_history(store, [dataset])[dataset][-limit:]
        finally:
            store.close()
    rows = history_rows(observations)
    if output == "json":
        print(json.dumps(rows, indent=2, default=str))
        return
    if not rows:
        console.print(f"{escape(dataset)} has no runs recorded yet: run `datahealth run`.")
        return
    table = Table(title=f"{escape(dataset)}: the last {plural(len(rows), 'run')}", title_justify="left")
    for name, justify in (
        ("as of (UTC)", "left"),
        ("status", "left"),
        ("rows", "right"),
        ("", "left"),
        ("lag", "right"),
        ("checks failed", "right"),
        ("error", "left"),
    ):
        table.add_column(name, justify=justify)  # type: ignore[arg-type]
    for row, bar in zip(rows, sparkline_cells([r["rows"] for r in rows]), strict=True):
        style = STATUS_STYLE.get(row["status"], "")
        table.add_row(
            row["as_of"][:19].replace("T", " "),
            f"[{style}]{row['status']}[/]",
            "-" if row["rows"] is None else f"{row['rows']:,}",
            f"[blue]{bar}[/]",
            format_duration(row["freshness_lag_seconds"]),
            str(row["checks_failed"] or "-"),
            escape(row["error"] or ""),
        )
    console.print(table)
