"""The exact SQL, job settings and credentials of the BigQuery engine (the real client on bqemulator: conformance)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy.engine import make_url
from sqlalchemy_bigquery import BigQueryDialect

from datahealth import engines
from datahealth.config.models import SqlSourceConfig
from datahealth.config.values import SampleSpec
from datahealth.core.errors import DatasetError
from datahealth.core.redaction import redact
from datahealth.core.results import ErrorKind
from datahealth.engines.bigquery import (
    DEFAULT_MAXIMUM_BYTES_BILLED,
    bigquery_settings,
    job_defaults,
    quote_dataset,
)
from datahealth.engines.errors import classify, error_kind
from tests.engines.compiled import catalog_sql, profile_sql, sample_sql

BQ = engines.BIGQUERY
DIALECT = BigQueryDialect()


def test_catalog_reads_columns_tables_and_partitions_of_one_dataset() -> None:
    sql, params = catalog_sql(BQ, DIALECT, "sales", ["orders", "events"])
    assert "FROM `sales`.INFORMATION_SCHEMA.COLUMNS c JOIN `sales`.INFORMATION_SCHEMA.TABLES t" in sql
    assert "SUM(total_rows) AS total_rows, MAX(last_modified_time) AS last_modified" in sql
    assert "FROM `sales`.INFORMATION_SCHEMA.PARTITIONS" in sql
    assert params == {"tables_1": "orders", "tables_2": "events"}
    with pytest.raises(DatasetError, match="not a BigQuery dataset name"):
        quote_dataset("sales`; DROP")


def test_partition_rows_give_freshness() -> None:
    """bqemulator never updates last_modified_time: the shape real BigQuery returns, parsed."""
    from datahealth.core.results import ColumnInfo, TableMeta

    rows = [
        {
            "table_name": "orders",
            "column_name": "id",
            "data_type": "INT64",
            "nullable": True,
            "estimated_rows": 1200,
            "kind": "r",
            "last_modified": datetime(2026, 1, 4, 11, tzinfo=UTC),
        }
    ]

    class Result:
        def mappings(self) -> list[dict[str, object]]:
            return rows

    class Conn:
        def execute(self, *args: object) -> Result:
            return Result()

    meta = BQ.read_catalog(Conn(), "sales", ["orders"])["orders"]  # type: ignore[arg-type]
    assert meta == TableMeta(
        (ColumnInfo("id", "int64", True),), 1200, "table", {"last_modified": "2026-01-04T11:00:00+00:00"}
    )
    assert BQ.metadata_last_modified(meta) == datetime(2026, 1, 4, 11, tzinfo=UTC)


def test_samples_are_tablesample_system_and_rand() -> None:
    sql, sampled = sample_sql(BQ, DIALECT, SampleSpec(percent=10.0))
    assert "TABLESAMPLE system(10 PERCENT)" in sql and sampled.method == "tablesample system"
    view, sampled = sample_sql(BQ, DIALECT, SampleSpec(percent=10.0), "view")
    assert view.endswith("RAND() < 0.1") and sampled.method == "random filter"


def test_profile_uses_hyperloglog_and_quartile_offsets_only_over_values() -> None:
    sql = profile_sql(BQ, DIALECT)
    assert "> 0) THEN [(approx_quantiles(" in sql and "approx_count_distinct" not in sql  # 10 rows: exact
    assert "[OFFSET(1)]" in sql and "[OFFSET(3)]" in sql and "is_nan(" in sql


def test_every_job_carries_the_bytes_billed_cap_the_timeout_and_a_label() -> None:
    config = SqlSourceConfig(kind="sql", url="bigquery://p/d", statement_timeout="2m")
    job = job_defaults(bigquery_settings(config))
    assert (job.maximum_bytes_billed, int(job.job_timeout_ms), job.labels) == (
        DEFAULT_MAXIMUM_BYTES_BILLED,
        120_000,
        {"application": "datahealth"},
    )
    capped = SqlSourceConfig(
        kind="sql", url="bigquery://p/d", connect_args={"maximum_bytes_billed": 10_000_000}
    )
    assert job_defaults(bigquery_settings(capped)).maximum_bytes_billed == 10_000_000


def test_a_refused_scan_is_a_clear_config_finding() -> None:
    """BigQuery's refusal (bqemulator enforces no cap, so its documented text is used)."""
    refused = Exception("400 Query exceeded limit for bytes billed: 10000000. 52428800 or higher required.")
    error = classify(refused, "measuring sales.orders failed", BQ.error_hints)
    assert error.kind == ErrorKind.CONFIG and "exceeded limit for bytes billed" in str(error)
    assert error_kind("404 Not found: Table p:sales.gone was not found in location EU", BQ.error_hints) == (
        ErrorKind.MISSING
    )
    assert error_kind(
        "403 Access Denied: Table p:sales.orders: User does not have permission", BQ.error_hints
    ) == (ErrorKind.PERMISSION)


def test_service_account_json_is_a_secret_and_unknown_settings_are_refused() -> None:
    config = SqlSourceConfig(
        kind="sql",
        url="bigquery://p/d",
        connect_args={
            "credentials_json": '{"type": "service_account", "private_key": "-----BEGIN sa-key-material"}'
        },
    )
    bigquery_settings(config)
    assert "sa-key-material" not in redact("key -----BEGIN sa-key-material here")
    with pytest.raises(DatasetError, match="unknown BigQuery connect_args location_typo"):
        bigquery_settings(
            SqlSourceConfig(kind="sql", url="bigquery://p/d", connect_args={"location_typo": "EU"})
        )
    assert make_url("bigquery://p/d").host == "p"
