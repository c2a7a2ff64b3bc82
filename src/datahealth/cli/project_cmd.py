"""`datahealth init` and `datahealth validate`: starting and checking a monitoring project."""

from __future__ import annotations

import shutil
from importlib import resources
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from datahealth.cli.app import app
from datahealth.cli.common import (
    EXIT_INVALID,
    ProjectOption,
    console,
    err_console,
    handled_errors,
    open_project,
)
from datahealth.config import ConfigError
from datahealth.core.redaction import redact
from datahealth.core.wording import plural


@app.command()
def init(
    directory: Annotated[Path, typer.Argument(help="Where to create the project (created if missing).")],
    force: Annotated[bool, typer.Option(help="Overwrite files that already exist.")] = False,
) -> None:
    """Scaffold a new monitoring project: sla_config/, checks/, flows/, reports/ and prefect.yaml, with comments."""
    template = resources.files("datahealth") / "scaffold"
    created, skipped = [], []
    with resources.as_file(template) as template_dir:
        for source in sorted(Path(template_dir).rglob("*")):
            if source.is_dir() or source.name == "__pycache__" or source.suffix == ".pyc":
                continue
            relative = source.relative_to(template_dir)
            target = directory / str(relative).replace("dot-", ".")
            if target.exists() and not force:
                skipped.append(target)
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, target)
            created.append(target)
    prefect_yaml = directory / "prefect.yaml"
    if force or not prefect_yaml.exists():
        from datahealth.orchestration.deploy import render_prefect_yaml

        prefect_yaml.write_text(render_prefect_yaml(open_project(directory)))
        created.append(prefect_yaml)
    else:
        skipped.append(prefect_yaml)
    for path in created:
        console.print(f"[green]created[/] {path}")
    for path in skipped:
        console.print(f"[yellow]kept[/]    {path} (exists; --force overwrites)")
    console.print(
        f"\nNext: edit {directory / 'sla_config'}, then `datahealth validate -p {directory}` and "
        f"`datahealth run -p {directory}`."
    )


@app.command()
def validate(
    project: ProjectOption = Path("."),
    strict: Annotated[
        bool, typer.Option("--strict", help="Treat warnings (e.g. inline passwords) as errors.")
    ] = False,
    connect: Annotated[
        bool,
        typer.Option(
            "--connect",
            help="Also reach every source: each dataset's table or path, timestamp and key columns must exist.",
        ),
    ] = False,
) -> None:
    """Check sla_config/ and every file under checks/, listing every problem at once (exit 0 when valid, 2 otherwise)."""
    try:
        loaded = open_project(project)
    except ConfigError as exc:
        err_console.print(redact(exc.render()), markup=False, highlight=False, soft_wrap=True)
        raise typer.Exit(EXIT_INVALID) from None
    for warning in loaded.warnings:
        label = "[red]error[/]" if strict else "[yellow]warning[/]"
        err_console.print(f"{label}: {escape(redact(warning))}", highlight=False, soft_wrap=True)
    if strict and loaded.warnings:
        raise typer.Exit(EXIT_INVALID)
    with handled_errors():
        from datahealth.checks.contract_files import contract_file_issues
        from datahealth.checks.native import contract_issues

        problems = [str(issue) for issue in contract_file_issues(loaded)]
        problems.extend(contract_issues(loaded))
        if connect:
            from datahealth.monitor.preflight import connection_issues

            problems.extend(str(issue) for issue in connection_issues(loaded))
        if problems:
            for problem in problems:
                err_console.print(
                    f"[red]error[/]: {escape(redact(problem))}", highlight=False, soft_wrap=True
                )
            raise typer.Exit(EXIT_INVALID)
        config = loaded.config
        reached = ", every table and column found" if connect else ""
        console.print(
            f"[green]valid[/]: {plural(len(config.sources), 'source')}, {plural(len(config.datasets), 'dataset')}, "
            f"{len(config.tiers)} tiers, {len(config.routing)} routes{reached} ({loaded.root / 'sla_config'})"
        )
