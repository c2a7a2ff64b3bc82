"""The options of `datahealth` itself (before any command): `--version`."""

from __future__ import annotations

from typing import Annotated

import typer

import datahealth
from datahealth.cli.app import app
from datahealth.cli.common import console


def _show_version(value: bool) -> None:
    if value:
        console.print(f"datahealth {datahealth.__version__}", highlight=False)
        raise typer.Exit()


@app.callback()
def root(
    version: Annotated[
        bool,
        typer.Option("--version", callback=_show_version, is_eager=True, help="Show the version and exit."),
    ] = False,
) -> None:
    """Data-quality and freshness monitoring for warehouses and lakes, on Prefect."""
