"""Redshift-only SQL as compiled text, and its IAM credentials (shared SQL runs on PostgreSQL: conformance)."""

from __future__ import annotations

import pytest
from botocore.stub import Stubber
from sqlalchemy_redshift.dialect import RedshiftDialect_psycopg2

from datahealth import engines
from datahealth.core.errors import DatasetError
from datahealth.core.redaction import redact
from datahealth.engines import redshift
from tests.engines.compiled import catalog_sql, profile_sql

RS = engines.REDSHIFT
DIALECT = RedshiftDialect_psycopg2()


def test_catalog_joins_svv_table_info_and_the_write_logs() -> None:
    sql, params = catalog_sql(RS, DIALECT, "sales", ["orders"])
    assert "LEFT JOIN svv_table_info i ON i.table_id = c.oid" in sql
    assert "i.estimated_visible_rows AS estimated_rows" in sql
    assert (
        "SELECT tbl, endtime FROM stl_insert WHERE rows > 0 UNION ALL SELECT tbl, endtime FROM stl_delete "
        "WHERE rows > 0"
    ) in sql
    assert params == {"schema": "sales", "tables_1": "orders"}


def test_large_tables_count_distincts_approximately() -> None:
    sql = profile_sql(RS, DIALECT)
    assert "APPROXIMATE COUNT(DISTINCT " not in sql  # 10 rows: exact
    from datetime import UTC, datetime

    from datahealth.config.models import DatasetConfig
    from datahealth.profiling.profiler import build_plan
    from tests.engines.compiled import META, TABLE

    dataset = DatasetConfig(name="s.t", table="main.t")
    plan = build_plan(RS, dataset, META, datetime(2026, 1, 2, tzinfo=UTC), TABLE, "table", 50_000_000)
    compiled = str(plan.statements[0].compile(dialect=DIALECT))
    assert 'APPROXIMATE COUNT(DISTINCT "select") AS c1_distinct_count' in compiled


def test_iam_asks_aws_for_temporary_credentials_and_masks_them(monkeypatch: pytest.MonkeyPatch) -> None:
    import boto3

    client = boto3.client(
        "redshift", region_name="eu-west-1", aws_access_key_id="x", aws_secret_access_key="y"
    )
    stub = Stubber(client)
    stub.add_response(
        "get_cluster_credentials",
        {"DbUser": "IAM:analyst", "DbPassword": "temporary-password-42"},
        {
            "DbUser": "analyst",
            "DbName": "dev",
            "ClusterIdentifier": "warehouse",
            "DurationSeconds": 900,
            "AutoCreate": False,
        },
    )
    monkeypatch.setattr(boto3, "client", lambda *args, **kwargs: client)
    with stub:
        user, password = redshift.iam_credentials(
            {"iam": True, "cluster_identifier": "warehouse"}, "analyst", "dev"
        )
    assert (user, password) == ("IAM:analyst", "temporary-password-42")
    assert redact("password temporary-password-42") == "password ***"


def test_iam_without_a_cluster_or_workgroup_is_a_config_error() -> None:
    with pytest.raises(DatasetError, match="cluster_identifier"):
        redshift.iam_credentials({"iam": True}, "analyst", "dev")
