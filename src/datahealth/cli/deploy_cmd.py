"""`datahealth deploy`: prefect.yaml from the tiers, work pool and source limits, then `prefect deploy --all`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

import datahealth.core.envdefaults  # noqa: F401
from datahealth.cli.app import app
from datahealth.cli.common import EXIT_INVALID, ProjectOption, console, fail, handled_errors, open_project


@app.command()
def deploy(
    project: ProjectOption = Path("."),
    write: Annotated[
        bool, typer.Option("--write", help="(Re)generate prefect.yaml from the tiers in sla_config.")
    ] = False,
    check: Annotated[
        bool, typer.Option("--check", help="Only check prefect.yaml against sla_config; no server needed.")
    ] = False,
    name: Annotated[
        list[str] | None, typer.Option("--name", "-n", help="Deploy only this deployment; repeatable.")
    ] = None,
) -> None:
    """Deploy one Prefect deployment per tier (schedules from sla_config) onto the project's work pool."""
    from datahealth.orchestration.deploy import DeployError, check_prefect_yaml, write_prefect_yaml
    from datahealth.orchestration.deploy import deploy as run_deploy

    with handled_errors():
        loaded = open_project(project)
        target = loaded.root / "prefect.yaml"
        if write:
            if write_prefect_yaml(loaded, target):
                console.print(f"[green]wrote[/] {target}")
            else:
                console.print(f"unchanged: {target}")
        if check:
            errors, warnings = check_prefect_yaml(loaded)
            for warning in warnings:
                console.print(f"[yellow]warning[/] {warning}", highlight=False)
            if errors:
                raise fail("\n  ".join(["prefect.yaml does not match sla_config:", *errors]), EXIT_INVALID)
            console.print(f"[green]valid[/]: {target}")
            return
        try:
            deployed = run_deploy(loaded, name, echo=lambda line: console.print(line, highlight=False))
        except DeployError as exc:
            raise fail(str(exc)) from None
    console.print(
        f"[green]deployed[/] {', '.join(deployed)}; start a worker: "
        f"prefect worker start --pool {loaded.config.project.work_pool}"
    )
