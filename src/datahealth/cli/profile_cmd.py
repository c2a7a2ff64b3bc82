"""`datahealth profile DATASET`: the latest stored profile, one row per column (or JSON)."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

import typer
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
from datahealth.core.wording import format_number, plural
from datahealth.store import read
from datahealth.store.read import StoredColumnProfile

_CELL = 28  # long text minima/maxima are cut in the table (never in JSON)


@app.command()
def profile(
    dataset: Annotated[str, typer.Argument(help="The dataset, named <source>.<dataset>.")],
    project: ProjectOption = Path("."),
    output: FormatOption = "table",
) -> None:
    """Show the latest profile of DATASET from the history store: nulls, distincts, ranges per column."""
    with handled_errors():
        if output not in ("table", "json"):
            raise ValueError(f"--format must be table or json, not {output!r}")
        loaded = open_project(project, source_secrets=False)
        loaded.dataset(dataset)  # unknown name → a clear error listing the configured datasets
        store = open_store(loaded)
        try:
            rows = read.latest_profile(store, dataset)
        finally:
            store.close()
    if not rows:
        raise fail(
            f"no profile stored for {dataset} yet; run `datahealth run -d {dataset}` with profiling enabled"
        )
    document = profile_document(dataset, rows)
    if output == "json":
        console.print_json(json.dumps(document, default=str))
        return
    console.print(_headline(document), highlight=False)
    console.print(profile_table(document))


def profile_document(dataset: str, rows: list[StoredColumnProfile]) -> dict[str, Any]:
    """The stored column rows of one profile as one JSON document (profile-level fields once)."""
    first = rows[0]

    def iso(value: datetime | None) -> str | None:
        return value.isoformat() if value is not None else None

    return {
        "dataset": dataset,
        "as_of": iso(first.as_of),
        "row_count": first.row_count,
        "sampled": first.sampled,
        "sample": first.sample,
        "window_start": iso(first.window_start),
        "window_end": iso(first.window_end),
        "distinct_method": first.distinct_method,
        "columns": [{"column": r.column, "type": r.column_type, "stats": r.stats} for r in rows],
    }


def _headline(document: dict[str, Any]) -> str:
    parts = [
        f"[bold]{document['dataset']}[/] as of {str(document['as_of'])[:19].replace('T', ' ')} UTC",
        f"{plural(document['row_count'], 'row')} profiled",
    ]
    if document["sampled"]:
        parts.append(f"[yellow]sampled ({document['sample']})[/]")
    if document["window_start"]:
        parts.append(f"window {document['window_start'][:16]} → {document['window_end'][:16]}")
    if document["distinct_method"] == "approx":
        parts.append("distinct counts approximate (≈)")
    return " · ".join(parts)


def profile_table(document: dict[str, Any]) -> Table:
    table = Table(header_style="bold", expand=False)
    for name, justify in (
        ("column", "left"),
        ("type", "left"),
        ("nulls", "right"),
        ("distinct", "right"),
        ("min", "left"),
        ("max", "left"),
        ("mean", "right"),
        ("stddev", "right"),
        ("more", "left"),
    ):
        table.add_column(name, justify=justify, overflow="fold")  # type: ignore[arg-type]
    for column in document["columns"]:
        stats = column["stats"]
        nulls = "-" if stats.get("null_count") is None else f"{stats['null_count']:,}"
        if stats.get("null_ratio") is not None and stats.get("null_count"):
            nulls += f" ({stats['null_ratio']:.1%})"
        distinct = "-"
        if stats.get("distinct_count") is not None:
            distinct = (
                "≈" if stats.get("distinct_method") == "approx" else ""
            ) + f"{stats['distinct_count']:,}"
        table.add_row(
            column["column"],
            column["type"] or "",
            nulls,
            distinct,
            _cell(stats.get("min")),
            _cell(stats.get("max")),
            _number(stats.get("mean")),
            _number(stats.get("stddev")),
            _more(stats),
        )
    return table


def _more(stats: dict[str, Any]) -> str:
    """The kind-specific statistics, compactly: quantiles, NaN/inf, lengths, empties, true ratio."""
    parts = []
    quantiles = stats.get("quantiles")
    if isinstance(quantiles, dict):
        parts.append("p25/p50/p75 " + "/".join(_number(quantiles.get(k)) for k in ("p25", "p50", "p75")))
    for key, label in (("nan_count", "NaN"), ("inf_count", "±inf"), ("empty_count", "empty")):
        if stats.get(key):
            parts.append(f"{label} {stats[key]:,}")
    if stats.get("max_length") is not None:
        parts.append(
            f"len {stats['min_length']}–{stats['max_length']} (avg {_number(stats.get('mean_length'))})"
        )
    if stats.get("true_ratio") is not None:
        parts.append(f"true {stats['true_ratio']:.1%}")
    return " · ".join(parts)


def _cell(value: Any) -> str:
    """A minimum or maximum: numbers rounded as in the report, timestamps in full (never cut), long text cut."""
    if value is None:
        return "-"
    if isinstance(value, int | float) and not isinstance(value, bool):
        return _number(value)
    text = str(value)
    when = _timestamp(text)
    if when is not None:
        return when
    return text if len(text) <= _CELL else text[: _CELL - 1] + "…"


def _timestamp(text: str) -> str | None:
    """An ISO date-time as `2026-10-10 05:00:00` (with ` UTC`, or its offset, when it has a zone)."""
    if len(text) < 16 or text[4:5] != "-" or text[10:11] not in ("T", " "):
        return None
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        return None
    shown = f"{value:%Y-%m-%d %H:%M:%S}" + (
        f".{value.microsecond:06d}".rstrip("0") if value.microsecond else ""
    )
    if value.tzinfo is None:
        return shown
    offset = value.utcoffset()
    return f"{shown} UTC" if not offset else f"{shown}{value:%z}"


def _number(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool) or not isinstance(value, int | float):
        return str(value)
    return format_number(value)
