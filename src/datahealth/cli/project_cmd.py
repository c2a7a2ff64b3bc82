"""`datahealth init` and `datahealth validate`: starting and checking a monitoring project."""

from __future__ import annotations

import shutil
from importlib import resources
from pathlib import Path
from typing import Annotated

import typer

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
def validate(project: ProjectOption = Path(".")) -> None:
    """Check sla_config/ and list every problem at once (exit 0 when valid, 2 otherwise)."""
    try:
        loaded = open_project(project)
    except ConfigError as exc:
        err_console.print(redact(exc.render()), markup=False, highlight=False, soft_wrap=True)
        raise typer.Exit(EXIT_INVALID) from None
    with handled_errors():
        from datahealth.checks.native import contract_issues

        unsupported = contract_issues(loaded)
        if unsupported:
            for issue in unsupported:
                err_console.print(f"[red]error[/]: {redact(issue)}", highlight=False, soft_wrap=True)
            raise typer.Exit(EXIT_INVALID)
        config = loaded.config
        console.print(
            f"[green]valid[/]: {plural(len(config.sources), 'source')}, {plural(len(config.datasets), 'dataset')}, "
            f"{len(config.tiers)} tiers, {len(config.routing)} routes ({loaded.root / 'sla_config'})"
        )
