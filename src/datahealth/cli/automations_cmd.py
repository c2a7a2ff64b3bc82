"""`datahealth automations apply`: create or update the project's Prefect Automations from YAML files."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

import datahealth.core.envdefaults  # noqa: F401
from datahealth.cli.app import app
from datahealth.cli.common import EXIT_INVALID, console, fail

automations_app = typer.Typer(
    help="Prefect Automations that act on datahealth events (page on error incidents, notify owners).",
    no_args_is_help=True,
)
app.add_typer(automations_app, name="automations")


@automations_app.command("apply")
def apply(
    path: Annotated[
        Path, typer.Argument(help="An automation file, or a directory of them (YAML or JSON).")
    ] = Path("deploy/prefect/automations"),
) -> None:
    """Create or update each automation by name on the Prefect server of PREFECT_API_URL.

    The files are Prefect's automation format; an action may name its block as `block: <type>/<name>`.
    See docs/prefect.md for the events they can match.
    """
    from datahealth.orchestration.automations import AutomationFileError, apply_automations

    try:
        applied = apply_automations(path)
    except AutomationFileError as exc:
        raise fail(str(exc), EXIT_INVALID) from None
    if not applied:
        raise fail(f"{path}: no automation files (*.yaml, *.yml, *.json) found", EXIT_INVALID)
    for item in applied:
        verb = "created" if item.created else "updated"
        console.print(f"{verb} [bold]{item.name}[/] ({item.file})", highlight=False)
