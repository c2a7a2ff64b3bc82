"""The exact SQL, names and credentials of the Snowflake engine (the real client on fakesnow: test_conformance)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from snowflake.sqlalchemy import snowdialect
from sqlalchemy.engine import make_url

from datahealth import engines
from datahealth.config.models import SqlSourceConfig
from datahealth.config.values import SampleSpec
from datahealth.core.errors import DatasetError
from datahealth.core.redaction import redact
from datahealth.core.results import ErrorKind
from datahealth.engines.errors import error_kind
from datahealth.engines.snowflake import connection_settings, soda_connection_properties, timeout_statement
from datahealth.engines.types import ColumnKind
from tests.engines.compiled import catalog_sql, profile_sql, sample_sql

SF = engines.SNOWFLAKE
DIALECT = snowdialect.dialect()
URL = make_url("snowflake://analyst@acme-xy12345/ANALYTICS/PUBLIC?warehouse=MONITOR_WH&role=READER")


def test_catalog_reads_row_count_and_last_altered_with_upper_case_names() -> None:
    sql, params = catalog_sql(SF, DIALECT, "public", ["orders", "MixedCase"])
    assert "t.row_count AS estimated_rows" in sql
    assert "DATE_PART(epoch_second, t.last_altered) AS last_modified" in sql
    assert params == {"schema": "PUBLIC", "tables_1": "ORDERS", "tables_2": "MixedCase"}


def test_last_altered_rows_parse_to_utc_and_the_epoch_is_unknown() -> None:
    """fakesnow always reports 1970: these are the shapes real Snowflake rows come in."""
    from datahealth.engines.base import last_modified

    assert last_modified(1767524400) == datetime(2026, 1, 4, 11, tzinfo=UTC)
    assert last_modified(datetime(2026, 1, 4, 12, tzinfo=UTC) - timedelta(hours=1)) == datetime(
        2026, 1, 4, 11, tzinfo=UTC
    )
    assert last_modified(0) is None  # what fakesnow says for every table


def test_names_fold_the_way_snowflake_stores_them() -> None:
    assert [SF.denormalize_name(n) for n in ("orders", "MixedCase", "ORDERS")] == [
        "ORDERS",
        "MixedCase",
        "ORDERS",
    ]
    assert [SF.normalize_name(n) for n in ("ORDERS", "MixedCase", "orders")] == [
        "orders",
        "MixedCase",
        "orders",
    ]
    assert SF.column_kind("number(38,0)") == ColumnKind.INTEGER
    assert SF.column_kind("number(10,2)") == ColumnKind.DECIMAL
    assert SF.column_kind("timestamp_ltz") == ColumnKind.TEMPORAL


def test_samples_are_snowflake_sample_clauses() -> None:
    sql, sampled = sample_sql(SF, DIALECT, SampleSpec(percent=10.0))
    assert "AS profile_sample TABLESAMPLE bernoulli(10) REPEATABLE (42)" in sql and sampled.repeatable
    sql, sampled = sample_sql(SF, DIALECT, SampleSpec(rows=25))
    assert "TABLESAMPLE bernoulli(25 ROWS)" in sql and "WHERE ts > 1" in sql and not sampled.repeatable


def test_profile_uses_hyperloglog_and_percentiles() -> None:
    sql = profile_sql(SF, DIALECT)
    assert "to_json(array_construct(CAST(approx_percentile(" in sql


def test_statement_timeout_is_a_session_parameter_and_a_per_profile_alter_session() -> None:
    config = SqlSourceConfig(kind="sql", url=str(URL), statement_timeout="90s")
    settings = connection_settings(URL, config)
    assert settings["session_parameters"] == {
        "STATEMENT_TIMEOUT_IN_SECONDS": 90,
        "QUERY_TAG": "datahealth",
        "TIMEZONE": "UTC",
    }
    assert (
        timeout_statement(0.2) == "ALTER SESSION SET STATEMENT_TIMEOUT_IN_SECONDS = 0"
    )  # rounds; 0 = default
    assert timeout_statement(30) == "ALTER SESSION SET STATEMENT_TIMEOUT_IN_SECONDS = 30"
    assert error_kind(
        "Statement reached its statement or warehouse timeout of 30 second(s)", SF.error_hints
    ) == (ErrorKind.TIMEOUT)


def _pem(passphrase: bytes | None) -> str:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    encryption = (
        serialization.BestAvailableEncryption(passphrase) if passphrase else serialization.NoEncryption()
    )
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption
    ).decode()


def test_key_pair_from_the_environment_is_decrypted_registered_and_handed_to_soda(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    pem = _pem(b"key-passphrase-123")
    monkeypatch.setenv("SNOWFLAKE_PRIVATE_KEY", pem)
    monkeypatch.setenv("SNOWFLAKE_PRIVATE_KEY_PASSPHRASE", "key-passphrase-123")
    config = SqlSourceConfig(kind="sql", url=str(URL))
    settings = connection_settings(URL, config)
    assert isinstance(settings["private_key"], bytes) and "private_key_passphrase" not in settings
    assert redact("passphrase key-passphrase-123 leaked") == "passphrase *** leaked"
    soda = soda_connection_properties(URL, config)
    assert soda["private_key"].startswith("-----BEGIN PRIVATE KEY-----") and "password" not in soda
    assert (soda["account"], soda["user"], soda["database"], soda["warehouse"], soda["role"]) == (
        "acme-xy12345",
        "analyst",
        "ANALYTICS",
        "MONITOR_WH",
        "READER",
    )


def test_a_wrong_passphrase_is_a_config_error_without_the_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SNOWFLAKE_PRIVATE_KEY", _pem(b"right-passphrase"))
    monkeypatch.setenv("SNOWFLAKE_PRIVATE_KEY_PASSPHRASE", "wrong-passphrase")
    with pytest.raises(DatasetError) as error:
        connection_settings(URL, SqlSourceConfig(kind="sql", url=str(URL)))
    assert error.value.kind == ErrorKind.CONFIG and "PRIVATE KEY" not in str(error.value)


def test_a_key_file_with_its_passphrase_goes_to_the_connector(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SNOWFLAKE_PRIVATE_KEY", raising=False)
    monkeypatch.setenv("SNOWFLAKE_PRIVATE_KEY_PATH", "/keys/rsa_key.p8")
    monkeypatch.setenv("SNOWFLAKE_PRIVATE_KEY_PASSPHRASE", "file-passphrase")
    settings = connection_settings(URL, SqlSourceConfig(kind="sql", url=str(URL)))
    assert (settings["private_key_file"], settings["private_key_file_pwd"]) == (
        "/keys/rsa_key.p8",
        "file-passphrase",
    )
