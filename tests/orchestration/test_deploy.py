"""prefect.yaml generated from the tiers, and checked against them (no server needed)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from datahealth.cli import app
from datahealth.config import load_project
from datahealth.orchestration.deploy import (
    check_prefect_yaml,
    deployments,
    render_prefect_yaml,
    write_prefect_yaml,
)
from tests.orchestration.projects import sqlite_project

TIERS = {
    "frequent": {"schedule": "*/15 * * * *", "profile": False, "checks": False, "datasets": ["*"]},
    "daily": {"schedule": "0 7 * * *", "timezone": "Europe/Berlin", "report": True, "shards": 2},
    "adhoc": {},
}


@pytest.fixture
def root(tmp_path: Path) -> Path:
    root = sqlite_project(
        tmp_path, ["orders", "customers"], tiers=TIERS, project={"name": "shop", "work_pool": "dq"}
    )
    (root / "flows").mkdir()
    (root / "flows" / "data_health.py").write_text("from datahealth.orchestration.flow import data_health\n")
    return root


def test_one_deployment_per_tier_and_shard_with_schedule_pool_and_parameters(root: Path) -> None:
    entries = {e["name"]: e for e in deployments(load_project(root))}
    assert list(entries) == ["frequent", "daily-shard-1-of-2", "daily-shard-2-of-2", "adhoc"]
    sweep = entries["frequent"]
    assert sweep["schedules"] == [{"cron": "*/15 * * * *", "timezone": "UTC"}]
    assert sweep["parameters"] == {
        "project_dir": ".",
        "tier": "frequent",
        "datasets": None,
        "shard": 0,
        "shards": 1,
    }
    assert sweep["work_pool"]["name"] == "dq" and sweep["description"] == "datahealth frequent: observe"
    shard = entries["daily-shard-2-of-2"]
    assert shard["parameters"]["shard"] == 1 and shard["parameters"]["shards"] == 2
    assert shard["schedules"] == [{"cron": "0 7 * * *", "timezone": "Europe/Berlin"}]
    assert "profile, checks, report" in shard["description"]
    assert entries["adhoc"]["schedules"] == []  # no schedule: run from the UI or `prefect deployment run`


def test_rendered_prefect_yaml_round_trips_and_checks_clean(root: Path) -> None:
    project = load_project(root)
    text = render_prefect_yaml(project)
    assert text.startswith("# Prefect deployments of this monitoring project")
    document = yaml.safe_load(text)
    assert document["name"] == "shop" and document["prefect-version"] == "3.9.1"
    assert [d["entrypoint"] for d in document["deployments"]] == ["flows/data_health.py:data_health"] * 4
    (root / "prefect.yaml").write_text(text)
    errors, warnings = check_prefect_yaml(project)
    assert errors == [] and len(warnings) == 1 and warnings[0].startswith("tier 'adhoc' covers no dataset")


def test_check_names_every_mismatch(root: Path) -> None:
    project = load_project(root)
    document = yaml.safe_load(render_prefect_yaml(project))
    document["deployments"] = document["deployments"][1:]  # the frequent tier lost its deployment
    document["deployments"][0]["parameters"]["tier"] = "weekly"
    document["deployments"][1]["schedules"][0]["cron"] = "every day"
    document["deployments"][2]["entrypoint"] = "flows/gone.py:data_health"
    document["deployments"][2]["work_pool"] = {}
    (root / "prefect.yaml").write_text(yaml.safe_dump(document))
    errors, warnings = check_prefect_yaml(project)
    assert errors == [
        "prefect.yaml: deployment 'daily-shard-1-of-2': parameters.tier 'weekly' is not a tier in sla_config "
        "(adhoc, daily, frequent)",
        "prefect.yaml: deployment 'daily-shard-2-of-2': schedule cron 'every day' is not a valid cron expression",
        f"prefect.yaml: deployment 'adhoc': entrypoint 'flows/gone.py:data_health' does not name a file in {root}",
        "prefect.yaml: deployment 'adhoc': no work_pool.name",
    ]
    assert warnings == [
        "tier 'frequent' has a schedule but no deployment in prefect.yaml; "
        "`datahealth deploy --write` regenerates it",
        "tier 'adhoc' covers no dataset: give datasets `tier: adhoc` or the tier "
        "`datasets: ['*']` (a sweep over all)",
    ]


def test_cli_writes_and_checks_without_a_server(root: Path) -> None:
    runner = CliRunner()
    result = runner.invoke(app, ["deploy", "-p", str(root), "--write", "--check"])
    assert result.exit_code == 0, result.output
    assert "wrote" in result.output and "valid" in result.output
    assert yaml.safe_load((root / "prefect.yaml").read_text())["deployments"][0]["name"] == "frequent"
    (root / "prefect.yaml").write_text("deployments: []\n")
    result = runner.invoke(app, ["deploy", "-p", str(root), "--check"])
    assert result.exit_code == 2 and "no `deployments:` list" in result.output


def test_deploy_write_leaves_an_unchanged_prefect_yaml_alone(tmp_path: Path) -> None:
    project = load_project(sqlite_project(tmp_path, ["orders"]))
    target = project.root / "prefect.yaml"
    assert write_prefect_yaml(project)
    os.utime(target, (1_000_000, 1_000_000))
    assert not write_prefect_yaml(project)
    assert target.stat().st_mtime == 1_000_000
    target.write_text(target.read_text() + "# edited by hand\n")
    assert write_prefect_yaml(project) and "# edited by hand" not in target.read_text()
