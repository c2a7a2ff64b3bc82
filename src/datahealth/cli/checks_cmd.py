"""`datahealth checks show DATASET`: the effective Soda contract, the user's checks and the generated ones."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape

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

checks_app = typer.Typer(
    help="Soda checks: user contracts in checks/ plus checks generated from config and history.",
    no_args_is_help=True,
)
app.add_typer(checks_app, name="checks")


@checks_app.command("show")
def show(
    dataset: Annotated[str, typer.Argument(help="The dataset, named <source>.<dataset>.")],
    project: ProjectOption = Path("."),
    as_of: Annotated[
        str | None, typer.Option("--as-of", help="Learn from history as of this ISO time (default: now).")
    ] = None,
    output: FormatOption = "yaml",
) -> None:
    """Print the contract Soda runs for DATASET: your checks/<source>/<dataset>.yml merged with generated checks.

    Generated entries carry a `# generated: <switch>` comment; switch one off with
    `checks: {<switch>: false}` under the dataset in sla_config. Line numbers in Soda's messages refer to
    this output.
    """
    from datahealth.checks.baselines import load_baselines
    from datahealth.checks.contracts import build_contract
    from datahealth.checks.data_sources import ChecksNotSupported, soda_target
    from datahealth.core.timeparse import parse_as_of

    with handled_errors():
        if output not in ("yaml", "json"):
            raise ValueError(f"--format must be yaml or json, not {output!r}")
        loaded = open_project(project, source_secrets=False)
        config = loaded.dataset(dataset)
        try:
            target = soda_target(loaded, config)
        except ChecksNotSupported as exc:
            raise fail(str(exc)) from None
        store = open_store(loaded)
        try:
            contract = build_contract(
                loaded, config, target, load_baselines(store, config, parse_as_of(as_of))
            )
        finally:
            store.close()
    if output == "json":
        console.print_json(json.dumps(contract_document(contract), default=str))
        return
    user = sum(1 for c in contract.checks if c.origin == "user")
    source = contract.display_path if contract.user_file_exists else f"{contract.display_path} (not found)"
    console.print(
        f"# {contract.dataset}: {user} user checks from {source}, {len(contract.checks) - user} generated",
        highlight=False,
        markup=False,
    )
    for line in ([contract.user_error] if contract.user_error else []) + contract.warnings + contract.notes:
        console.print(f"# [yellow]{escape(line)}[/]", highlight=False)
    console.print(contract.to_yaml(), highlight=False, markup=False, soft_wrap=True, end="")


def contract_document(contract: Any) -> dict[str, Any]:
    """The effective contract as JSON: each check with its origin and the switch that turns it off."""
    return {
        "dataset": contract.dataset,
        "qualified_name": contract.target.qualified_name,
        "contract_file": contract.display_path,
        "contract_file_exists": contract.user_file_exists,
        "error": contract.user_error,
        "warnings": contract.warnings,
        "notes": contract.notes,
        "checks": [
            {
                "name": c.name,
                "type": c.check_type,
                "column": c.column,
                "origin": c.origin,
                "switch": c.switch,
                "soda_path": c.path,
            }
            for c in contract.checks
        ],
        "yaml": contract.to_yaml(),
    }
