"""The demo's lake switch: which store the variable asks for, and the project pointed at it."""

from __future__ import annotations

from pathlib import Path

import pytest

from datahealth.config import load_project
from datahealth.config.models import LakeSourceConfig
from datahealth.demo.lake_stores import DemoLakeStore, requested_store

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(("value", "expected"), [("", None), ("local", None), ("S3", "s3"), ("gcs", "gcs")])
def test_the_variable_names_the_store(
    monkeypatch: pytest.MonkeyPatch, value: str, expected: str | None
) -> None:
    monkeypatch.setenv("DATAHEALTH_DEMO_LAKE", value)
    assert requested_store() == expected


def test_an_unknown_store_is_an_error_naming_the_choices(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATAHEALTH_DEMO_LAKE", "hdfs")
    with pytest.raises(ValueError, match="s3, azure, gcs"):
        requested_store()


def test_the_project_reads_the_lake_from_the_bucket() -> None:
    project = load_project(REPO)
    moved = DemoLakeStore("s3", "s3://demo-lake/lake").project(project)
    lake = moved.config.sources["lake"]
    assert isinstance(lake, LakeSourceConfig) and lake.root == "s3://demo-lake/lake"
    assert moved.dataset("lake.clickstream").partition_column == "event_date"
    assert moved.dataset("lake.crm_exports").partition_column is None
    assert project.config.sources["lake"].root == "demo/lake"  # type: ignore[union-attr]
