"""Config loading: the repository's own project is valid; every kind of mistake names file, key, line and fix."""

from __future__ import annotations

from pathlib import Path

import pytest

from datahealth.config import ConfigError, load_project
from datahealth.core.redaction import redact
from tests.conftest import REPO_ROOT
from tests.support.projects import write_project


def write(root: Path, name: str, text: str) -> Path:
    path = root / "sla_config" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def issues_of(root: Path, environ: dict[str, str] | None = None) -> list:
    with pytest.raises(ConfigError) as caught:
        load_project(root, environ=environ or {})
    return caught.value.issues


MINIMAL_SOURCES = """
sources:
  wh:
    kind: sql
    url: sqlite:///x.db
"""


def test_repository_demo_project_is_valid() -> None:
    project = load_project(REPO_ROOT, environ={})
    assert {d.name for d in project.datasets} >= {"warehouse.customers", "lake.clickstream"}
    clickstream = project.dataset("lake.clickstream")
    assert clickstream.source == "lake" and clickstream.path == "clickstream/**/*.parquet"
    assert project.config.tiers["frequent"].profile is False


def test_unknown_key_names_file_line_key_and_suggests_the_right_one(tmp_path: Path) -> None:
    path = write(
        tmp_path, "a.yaml", MINIMAL_SOURCES + "datasets:\n  wh.orders:\n    sla:\n      warn_afer: 2h\n"
    )
    [issue] = issues_of(tmp_path)
    assert issue.file == path
    assert issue.key == "datasets.wh.orders.sla.warn_afer"
    assert issue.line == 9
    assert "unknown key" in issue.message
    assert "warn_after" in issue.fix


def test_every_problem_is_reported_at_once(tmp_path: Path) -> None:
    write(
        tmp_path,
        "a.yaml",
        """
sources:
  wh:
    kind: sql
    url: postgresql+psycopg://u:${MISSING_PW}@localhost/db
    max_concurrency: lots
  lk:
    kind: lake
datasets:
  wh.orders:
    tier: hourly
    row_count: maybe
  nowhere.table: {}
  lk.files:
    table: t
""",
    )
    write(tmp_path, "b.yaml", "datasets:\n  wh.orders: {}\nhistroy: {}\n")
    issues = issues_of(tmp_path)
    by_key = {i.key: i for i in issues}
    assert "MISSING_PW is not set" in by_key["sources.wh.url"].message
    assert "whole number" in by_key["sources.wh.max_concurrency"].fix
    assert by_key["sources.lk.root"].message == "required key is missing"
    assert "unknown tier 'hourly'" in by_key["datasets.wh.orders.tier"].message
    assert "'exact' or 'estimate'" in by_key["datasets.wh.orders.row_count"].message
    assert "unknown source 'nowhere'" in by_key["datasets.nowhere.table"].message
    assert "lake datasets need a path" in by_key["datasets.lk.files"].message
    assert "defined again" in by_key["datasets.wh.orders"].message
    assert "did you mean 'history'" in by_key["histroy"].fix
    assert len(issues) >= 9
    assert all(i.line is not None for i in issues)


def test_invalid_yaml_points_at_the_line(tmp_path: Path) -> None:
    write(tmp_path, "a.yaml", "sources:\n  wh: {kind: sql, url: [1,\n")
    [issue] = issues_of(tmp_path)
    assert "invalid YAML" in issue.message and issue.line is not None


def test_missing_config_directory_says_how_to_start(tmp_path: Path) -> None:
    [issue] = issues_of(tmp_path)
    assert "datahealth init" in issue.fix


def test_env_interpolation_with_default_and_secret_redaction(tmp_path: Path) -> None:
    write(
        tmp_path,
        "a.yaml",
        """
sources:
  wh:
    kind: sql
    url: postgresql+psycopg://monitor:${WH_PASSWORD}@${WH_HOST:-127.0.0.1}:5432/db
datasets:
  wh.orders: {}
""",
    )
    project = load_project(tmp_path, environ={"WH_PASSWORD": "s3cr3t-pw-value"})
    url = project.config.sources["wh"].url  # type: ignore[union-attr]
    assert url == "postgresql+psycopg://monitor:s3cr3t-pw-value@127.0.0.1:5432/db"
    assert "s3cr3t-pw-value" not in redact(f"connection failed for {url}: password s3cr3t-pw-value rejected")


def test_wrong_sla_order_and_bad_cron_and_timezone(tmp_path: Path) -> None:
    write(
        tmp_path,
        "a.yaml",
        MINIMAL_SOURCES
        + """
datasets:
  wh.a:
    sla: {warn_after: 5h, error_after: 1h}
  wh.b:
    sla:
      expected_by: {cron: "every morning", timezone: Mars/Olympus}
  wh.c:
    sla: {warn_after: soon}
""",
    )
    messages = {i.key: i.message for i in issues_of(tmp_path)}
    assert "warn_after must not be longer than error_after" in messages["datasets.wh.a.sla"]
    assert "not a valid cron expression" in messages["datasets.wh.b.sla.expected_by.cron"]
    assert "IANA time zone" in messages["datasets.wh.b.sla.expected_by.timezone"]
    assert "not a duration" in messages["datasets.wh.c.sla.warn_after"]


def test_without_source_secrets_an_unset_source_variable_is_left_empty(tmp_path: Path) -> None:
    """Read-only commands load the project with source_secrets=False; everything else still needs them."""
    write_project(
        tmp_path,
        sources={"wh": {"kind": "sql", "url": "${DH_TEST_WAREHOUSE_URL}"}},
        datasets={"wh.orders": {}},
        history={"url": "sqlite:///${DH_TEST_HISTORY_DIR}/h.db"},
    )
    loaded = load_project(tmp_path, environ={"DH_TEST_HISTORY_DIR": "/tmp"}, source_secrets=False)
    assert loaded.config.sources["wh"].url == ""  # type: ignore[union-attr]
    with pytest.raises(ConfigError, match="DH_TEST_WAREHOUSE_URL is not set"):
        load_project(tmp_path, environ={"DH_TEST_HISTORY_DIR": "/tmp"})
    with pytest.raises(ConfigError, match="DH_TEST_HISTORY_DIR is not set"):  # the store is always needed
        load_project(tmp_path, environ={}, source_secrets=False)


def test_default_tier_applies_to_datasets_without_a_tier_and_must_exist(tmp_path: Path) -> None:
    tiers = {"daily": {}, "hourly": {"schedule": "0 * * * *"}}
    write_project(
        tmp_path,
        sources={"wh": {"kind": "sql", "url": "duckdb:///wh.duckdb"}},
        datasets={"wh.orders": {}, "wh.items": {"tier": "daily"}},
        project={"default_tier": "hourly"},
        tiers=tiers,
    )
    datasets = load_project(tmp_path).config.datasets
    assert (datasets["wh.orders"].tier, datasets["wh.items"].tier) == ("hourly", "daily")
    write_project(
        tmp_path,
        sources={"wh": {"kind": "sql", "url": "duckdb:///wh.duckdb"}},
        datasets={"wh.orders": {}},
        project={"default_tier": "hourlly"},
        tiers=tiers,
    )
    with pytest.raises(ConfigError) as raised:
        load_project(tmp_path)
    assert raised.value.issues[0].key == "project.default_tier" and len(raised.value.issues) == 1
    assert "unknown tier 'hourlly'" in str(raised.value) and "project.yaml:" in str(raised.value)


def test_lake_object_stores_and_table_formats(tmp_path: Path) -> None:
    """s3:// roots and Delta/Iceberg formats load; an Iceberg dataset names a table, files datasets a path."""
    write(
        tmp_path,
        "a.yaml",
        """
sources:
  raw: {kind: lake, root: "s3://acme/events", list_timeout: 30s, max_objects: 5000}
  ice: {kind: lake, root: "gs://acme/wh", format: iceberg, iceberg_catalog: {type: sql, uri: "sqlite:///c.db"}}
datasets:
  raw.clicks: {path: "clicks/**/*.parquet", partition_column: event_date, partition_window: 7d}
  raw.orders: {path: orders, format: delta}
  ice.orders: {table: sales.orders}
  ice.nothing: {}
""",
    )
    by_key = {i.key: i for i in issues_of(tmp_path)}
    assert set(by_key) == {"datasets.ice.nothing"}
    assert "Iceberg datasets need a table" in by_key["datasets.ice.nothing"].message
