"""The `datahealth` Typer application object; command modules register themselves on it.

Command modules import the heavy parts (Prefect, the orchestration flow, Soda through the checks,
the report renderer, the demo platform) inside the command functions, so that `datahealth --help`,
`validate` or `status` start without loading them. This is the one place where a function-level import
of a datahealth module is allowed; elsewhere it would only hide an import cycle, and
tests/test_architecture.py rejects it.
"""

from __future__ import annotations

import typer

from datahealth.cli.help import OrderedCommands, show_flags_as_flags

show_flags_as_flags()
app = typer.Typer(
    name="datahealth",
    help="Data-quality and freshness monitoring for warehouses and lakes, on Prefect.",
    no_args_is_help=True,
    rich_markup_mode="rich",
    pretty_exceptions_enable=False,
    add_completion=False,
    cls=OrderedCommands,  # grouped, ordered --help (cli/help.py)
)
