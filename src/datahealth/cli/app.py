"""The `datahealth` Typer application object; command modules register themselves on it."""

from __future__ import annotations

import typer

app = typer.Typer(
    name="datahealth",
    help="Data-quality and freshness monitoring for warehouses and lakes, on Prefect.",
    no_args_is_help=True,
    rich_markup_mode="rich",
    pretty_exceptions_enable=False,
    add_completion=False,
)
