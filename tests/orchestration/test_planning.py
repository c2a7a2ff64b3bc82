"""Tier-aware selection, shards and tier stages (no Prefect)."""

from __future__ import annotations

from pathlib import Path

import pytest

from datahealth.config import load_project
from datahealth.monitor.selection import SelectionError
from datahealth.orchestration.planning import run_options, select_for_run, shard_datasets
from tests.orchestration.projects import sqlite_project

TABLES = ["a", "b", "c", "d", "e"]


@pytest.fixture
def project(tmp_path: Path):
    root = sqlite_project(
        tmp_path,
        TABLES,
        extra_datasets={"warehouse.hourly": {"table": "a", "tier": "hourly"}},
        tiers={
            "frequent": {"schedule": "*/15 * * * *", "profile": False, "checks": False, "datasets": ["*"]},
            "hourly": {"schedule": "0 * * * *"},
            "daily": {"schedule": "0 7 * * *", "report": True, "email": True},
        },
    )
    return load_project(root)


def names(datasets) -> list[str]:
    return sorted(d.name for d in datasets)


def test_a_sweep_tier_covers_every_dataset_and_a_plain_tier_only_its_own(project) -> None:
    assert len(select_for_run(project, None, "frequent")) == 6
    assert names(select_for_run(project, None, "hourly")) == ["warehouse.hourly"]
    assert names(select_for_run(project, None, "daily")) == [f"warehouse.{t}" for t in TABLES]
    assert names(select_for_run(project, ["warehouse.[ab]"], "frequent")) == ["warehouse.a", "warehouse.b"]


def test_unknown_tier_and_empty_selection_are_clear_errors(project) -> None:
    with pytest.raises(
        SelectionError, match="unknown tier 'weekly'; tiers in sla_config: daily, frequent, hourly"
    ):
        select_for_run(project, None, "weekly")
    with pytest.raises(SelectionError, match="no dataset matches lake.*"):
        select_for_run(project, ["lake.*"], "frequent")


def test_shards_split_every_dataset_exactly_once_and_evenly(project) -> None:
    datasets = select_for_run(project, None, "frequent")
    shards = [shard_datasets(list(reversed(datasets)), i, 4) for i in range(4)]
    assert sorted(n for shard in shards for n in names(shard)) == names(datasets)
    assert [len(s) for s in shards] == [2, 2, 1, 1]
    assert names(shard_datasets(datasets, 1, 4)) == names(shards[1])  # input order does not matter
    assert shard_datasets(datasets, 0, 1) == sorted(datasets, key=lambda d: d.name)
    with pytest.raises(ValueError, match="shard must be between 0 and shards-1"):
        shard_datasets(datasets, 4, 4)


def test_tiers_choose_the_stages(project) -> None:
    sweep = run_options(project, "frequent")
    assert (sweep.profile, sweep.checks, sweep.report, sweep.email) == (False, False, False, False)
    full = run_options(project, "daily")
    assert (full.profile, full.checks, full.report, full.email) == (True, True, True, True)
    assert run_options(project, "daily", publish=False).report is False
    assert run_options(project, None).report is True
