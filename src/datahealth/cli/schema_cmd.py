"""`datahealth schema show|accept DATASET`: the accepted baseline, how the latest schema differs, accepting it.

A schema change stays an open incident until the schema is reverted or accepted; accepting makes the
newest snapshot the baseline, and the next run resolves the incident.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from datahealth.cli.app import app
from datahealth.cli.common import FormatOption, ProjectOption, console
from datahealth.cli.incidents_cmd import project_store
from datahealth.core.results import utc_now
from datahealth.core.wording import plural
from datahealth.rules.schema_diff import diff_columns
from datahealth.store import read
from datahealth.store.incidents import accept_latest_schema

schema_app = typer.Typer(
    help="Schema baselines: show how a dataset's schema differs, accept a change.", no_args_is_help=True
)
app.add_typer(schema_app, name="schema")

DatasetArgument = Annotated[str, typer.Argument(help="The dataset, named <source>.<dataset>.")]


@schema_app.command()
def show(
    dataset: DatasetArgument, project: ProjectOption = Path("."), output: FormatOption = "table"
) -> None:
    """The accepted baseline of DATASET and how the latest observed schema differs from it."""
    with project_store(project) as (loaded, store):
        name = loaded.dataset(dataset).name
        baseline = read.accepted_schemas(store, [name]).get(name)
        latest = read.latest_observations(store, [name]).get(name)
    current = latest.columns if latest is not None else ()
    changes = diff_columns(baseline, current) if baseline and current else []
    if output == "json":
        print(
            json.dumps(
                {
                    "dataset": name,
                    "baseline": [c.to_dict() for c in baseline or ()],
                    "latest": [c.to_dict() for c in current],
                    "changes": [c.to_dict() for c in changes],
                },
                indent=2,
            )
        )
        return
    if not baseline:
        console.print(f"{name}: no accepted schema yet (the first run records one).")
        return
    console.print(
        f"{name}: baseline of {plural(len(baseline), 'column')}; latest run "
        f"{'saw ' + str(len(current)) + ' columns' if current else 'saw no columns'}.",
        highlight=False,
    )
    for change in changes:
        console.print(f"  - {escape(change.describe())}", highlight=False)
    if changes:
        console.print(f"Accept it as the new baseline: datahealth schema accept {name}")
    elif current:
        console.print("  matches the baseline")


@schema_app.command()
def accept(dataset: DatasetArgument, project: ProjectOption = Path(".")) -> None:
    """Accept DATASET's newest schema as its baseline; its schema-change incident resolves on the next run."""
    with project_store(project) as (loaded, store):
        name = loaded.dataset(dataset).name
        accepted = accept_latest_schema(store, name, utc_now())
        if accepted is None:
            raise ValueError(f"{name} has no schema snapshot yet; run `datahealth run -d {name}` first")
    snapshot, already = accepted
    columns = len(snapshot.columns)
    if already:
        console.print(
            f"{name}: the newest schema ({plural(columns, 'column')}, seen {snapshot.as_of:%Y-%m-%d %H:%M}) "
            "already is the baseline.",
            highlight=False,
        )
    else:
        console.print(
            f"{name}: accepted the schema seen {snapshot.as_of:%Y-%m-%d %H:%M} ({plural(columns, 'column')}) as "
            "the baseline; the schema-change incident resolves on the next run.",
            highlight=False,
        )
