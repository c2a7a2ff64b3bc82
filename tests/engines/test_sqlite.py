"""The exact SQL and connection settings the SQLite engine emits (a real file: test_conformance.py)."""

from __future__ import annotations

import sqlite3
import threading
import time
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.dialects import sqlite
from sqlalchemy.engine import make_url

from datahealth import engines
from datahealth.config.models import SqlSourceConfig
from datahealth.config.values import SampleSpec
from datahealth.core.errors import SourceUnavailable
from datahealth.engines.sqlite import lock_timeout
from datahealth.store.engine import create_history_engine
from tests.engines.compiled import catalog_sql, profile_sql, sample_sql

LITE = engines.SQLITE
DIALECT = sqlite.dialect()


def test_catalog_reads_sqlite_master_and_pragma_table_info_in_one_query() -> None:
    sql, params = catalog_sql(LITE, DIALECT, "main", ["orders", "customers"])
    assert sql == (
        'SELECT m.name AS table_name, p.name AS column_name, p.type AS data_type, p."notnull" = 0 AS nullable, '
        "NULL AS estimated_rows, substr(m.type, 1, 1) AS kind FROM sqlite_master m JOIN "
        "pragma_table_info(m.name) p WHERE m.type IN ('table', 'view') AND m.name IN (?, ?) "
        "ORDER BY m.name, p.cid"
    )
    assert params == {"tables_1": "orders", "tables_2": "customers"}


def test_samples_are_emulated_with_random() -> None:
    percent, sampled = sample_sql(LITE, DIALECT, SampleSpec(percent=10.0))
    assert percent == (
        'SELECT count(*) AS count_1 FROM main."My ""T""" WHERE ts > 1 AND abs(random()) % 1000000 < 100000'
    )
    assert (sampled.method, sampled.repeatable) == ("random filter", False)
    rows, sampled = sample_sql(LITE, DIALECT, SampleSpec(rows=25))
    assert rows == (
        'SELECT count(*) AS count_1 FROM (SELECT * FROM main."My ""T""" WHERE ts > 1 ORDER BY abs(random()) '
        "% 1000000 LIMIT 25 OFFSET 0) AS profile_sample"
    )
    assert (sampled.method, sampled.repeatable) == ("random order limit", False)


def test_profile_sql() -> None:
    lite = profile_sql(LITE, DIALECT)
    assert 'sum(CAST(CASE WHEN ("we""ird col" > -9e999 AND "we""ird col" < 9e999)' in lite
    assert "stddev_samp" not in lite and "nan_count" not in lite and "c0_inf_count" in lite


def test_read_only_files_open_with_mode_ro_and_must_exist(tmp_path: Path) -> None:
    url = LITE.resolve_url(make_url("sqlite:///w.db"), tmp_path)
    assert url.database == str(tmp_path / "w.db")
    config = SqlSourceConfig(kind="sql", url=str(url))
    with pytest.raises(SourceUnavailable, match="SQLite database file not found"):
        LITE.engine_options(url, config)
    sqlite3.connect(tmp_path / "w.db").close()
    engine = LITE.create_engine(url, config)
    try:
        with pytest.raises(sa.exc.OperationalError, match="readonly database"), engine.begin() as conn:
            conn.exec_driver_sql("CREATE TABLE t (x INTEGER)")
    finally:
        engine.dispose()
    writable = SqlSourceConfig(kind="sql", url=str(url), read_only=False)
    assert LITE.engine_options(url, writable).kwargs == {}


def test_history_store_sessions(tmp_path: Path) -> None:
    url = LITE.resolve_store_url(make_url("sqlite:///state/history.db?timeout=2.5"), tmp_path)
    assert url.database == str(tmp_path / "state" / "history.db") and (tmp_path / "state").is_dir()
    assert LITE.store_engine_options(url).connect_args == {"timeout": 2.5, "check_same_thread": False}
    connection = sqlite3.connect(url.database)
    try:
        LITE.prepare_store_connection(connection, url)
        settings = [
            connection.execute(f"PRAGMA {name}").fetchone()[0]
            for name in ("journal_mode", "synchronous", "busy_timeout", "foreign_keys")
        ]
        assert settings == ["wal", 1, 2500, 1]
    finally:
        connection.close()
    assert lock_timeout(make_url("sqlite:///h.db")) == 30
    with pytest.raises(ValueError, match="timeout='soon' is not a number of seconds"):
        lock_timeout(make_url("sqlite:///h.db?timeout=soon"))


def _hold_lock_on_new_file(path: Path, seconds: float) -> threading.Thread:
    """A new store another process is writing to (migrating): a rollback-journal file whose write lock is
    held for `seconds`. SQLite refuses a WAL switch against it at once, without calling the busy handler."""
    holder = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
    holder.execute("CREATE TABLE t (x INTEGER)")
    holder.execute("BEGIN IMMEDIATE")
    holder.execute("CREATE TABLE alembic_version (version_num TEXT)")

    def release() -> None:
        time.sleep(seconds)
        holder.execute("COMMIT")
        holder.close()

    thread = threading.Thread(target=release)
    thread.start()
    return thread


def test_a_busy_switch_to_wal_is_retried_until_the_lock_timeout(tmp_path: Path) -> None:
    """Concurrent first runs: one migrates while the others' connections switch the new file to WAL."""
    path = tmp_path / "history.db"
    holder = _hold_lock_on_new_file(path, 0.5)
    impatient = sqlite3.connect(path, timeout=10)
    try:
        LITE.prepare_store_connection(impatient, make_url(f"sqlite:///{path}?timeout=10"))
        assert impatient.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    finally:
        impatient.close()
        holder.join()


def test_a_switch_to_wal_still_locked_after_the_lock_timeout_fails(tmp_path: Path) -> None:
    path = tmp_path / "history.db"
    holder = _hold_lock_on_new_file(path, 1.5)
    impatient = sqlite3.connect(path, timeout=10)
    try:
        with pytest.raises(sqlite3.OperationalError, match="database is locked"):
            LITE.prepare_store_connection(impatient, make_url(f"sqlite:///{path}?timeout=0.3"))
    finally:
        impatient.close()
        holder.join()


def test_history_store_commits_wait_for_no_fsync(tmp_path: Path) -> None:
    """WAL with synchronous=NORMAL (1): thousands of per-dataset commits must not each fsync."""
    url = LITE.resolve_store_url(make_url("sqlite:///history.db"), tmp_path)
    engine = create_history_engine(url)
    try:
        with engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 1
    finally:
        engine.dispose()
