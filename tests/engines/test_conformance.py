"""The conformance suite: every engine, on a real instance, does what datahealth needs and what it declares.

Each test runs once per engine under test (tests/engines/under_test.py) and never names an engine: what
differs is read from the engine's declared `EngineCapabilities`, so a declaration that is not true fails
here. A case an engine cannot show at all (SQLite has no permissions) is skipped at collection with its
reason, listed in docs/engines.md; it is never counted as a pass.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from datahealth import engines
from datahealth.config import load_project
from datahealth.config.models import DatasetConfig, SqlSourceConfig
from datahealth.core.errors import DatasetError
from datahealth.core.results import CheckOutcome, ErrorKind, TableMeta
from datahealth.core.run import RunOptions
from datahealth.engines.base import PERCENT, ROWS, SqlEngine
from datahealth.engines.types import ColumnKind
from datahealth.monitor.runner import run_monitor
from datahealth.profiling.profiler import profile_dataset
from datahealth.sources.sql import SqlSource
from datahealth.store import HistoryStore
from datahealth.store.tables import findings
from tests.checks.conftest import check_dataset
from tests.engines.under_test import (
    ORDERS_COLUMNS,
    ORDERS_DDL,
    ORDERS_INSERT,
    ORDERS_ROWS,
    EngineUnderTest,
    engines_for,
)
from tests.support.projects import write_checks, write_project

AS_OF = datetime(2026, 1, 5, tzinfo=UTC)
NEWEST = datetime(2026, 1, 4, 11, tzinfo=UTC)
EMULATED_METHODS = {"random filter", "random order limit"}
ORDERS_KINDS = [
    ColumnKind.INTEGER,
    ColumnKind.DECIMAL,
    ColumnKind.FLOAT,
    ColumnKind.TEXT,
    ColumnKind.BOOLEAN,
    ColumnKind.TEMPORAL,
]


def engine_of(under_test: EngineUnderTest) -> SqlEngine:
    return engines.for_backend(under_test.backend)


@contextmanager
def opened(under_test: EngineUnderTest, url: str | None = None) -> Iterator[SqlSource]:
    """The monitor's own source on the engine under test (read-only), closed afterwards."""
    source = SqlSource("wh", SqlSourceConfig(**under_test.source(url)), Path("."))
    try:
        yield source
    finally:
        source.close()


def dataset(under_test: EngineUnderTest, table: str = "orders", **fields: Any) -> DatasetConfig:
    return DatasetConfig(name=f"wh.{table}", table=under_test.table(table), **fields)


def described(source: SqlSource, ds: DatasetConfig) -> TableMeta:
    meta = source.describe([ds])[ds.name]
    assert isinstance(meta, TableMeta), meta
    return meta


def capture(engine: sa.Engine) -> list[str]:
    """Every statement sent from now on (the connection's first-use set-up already happened)."""
    with engine.connect():
        pass
    statements: list[str] = []
    sa.event.listen(engine, "before_cursor_execute", lambda *args: statements.append(args[2]))
    return statements


def column(index: int) -> list[Any]:
    return [row[index] for row in ORDERS_ROWS if row[index] is not None]


@pytest.mark.parametrize("under_test", engines_for("describe"), indirect=True)
def test_describe_reads_columns_kinds_and_relation_kinds_in_one_catalog_query(
    under_test: EngineUnderTest,
) -> None:
    under_test.execute(ORDERS_DDL, ORDERS_INSERT, "CREATE VIEW recent AS SELECT id, email FROM orders")
    engine = engine_of(under_test)
    with opened(under_test) as source:
        statements = capture(source.engine)
        catalog = source.describe([dataset(under_test), dataset(under_test, "recent")])
    assert len(statements) == 1, statements  # both tables, one schema: one catalog query
    orders, recent = catalog["wh.orders"], catalog["wh.recent"]
    assert isinstance(orders, TableMeta) and isinstance(recent, TableMeta)
    assert [c.name for c in orders.columns] == list(ORDERS_COLUMNS)
    assert [engine.column_kind(c.data_type) for c in orders.columns] == ORDERS_KINDS
    assert [c.nullable for c in orders.columns] == [False, True, True, True, True, True]
    assert (orders.kind, recent.kind) == ("table", "view")
    assert [c.name for c in recent.columns] == ["id", "email"]


@pytest.mark.parametrize("under_test", engines_for("observe_metadata"), indirect=True)
def test_row_estimates_come_from_metadata_exactly_where_declared(under_test: EngineUnderTest) -> None:
    under_test.execute(ORDERS_DDL, ORDERS_INSERT)
    under_test.refresh_statistics()
    capabilities = engine_of(under_test).capabilities
    ds = dataset(under_test, row_count="estimate", timestamp_column="updated_at")
    with opened(under_test) as source:
        meta = described(source, ds)
        statements = capture(source.engine)
        measurement = source.measure(ds, meta, AS_OF)
    counted = any("count(" in s.lower() for s in statements)
    if capabilities.metadata_row_counts:
        assert meta.estimated_rows == len(ORDERS_ROWS) and not counted
        assert (measurement.row_count, measurement.row_count_method) == (len(ORDERS_ROWS), "estimate")
    else:
        assert meta.estimated_rows is None and counted
        assert (measurement.row_count, measurement.row_count_method) == (len(ORDERS_ROWS), "exact")
    # a timestamp column, when named, is what freshness reads (test_freshness_metadata: without one)
    assert (measurement.last_updated, measurement.last_updated_method) == (NEWEST, "column")


@pytest.mark.parametrize("under_test", engines_for("freshness_metadata"), indirect=True)
def test_freshness_comes_from_metadata_exactly_where_declared(under_test: EngineUnderTest) -> None:
    """Without a timestamp column, an engine whose catalog records changes knows the last write (no scan)."""
    capabilities = engine_of(under_test).capabilities
    under_test.execute(ORDERS_DDL, ORDERS_INSERT)
    under_test.record_write("orders")
    under_test.refresh_statistics()
    ds = dataset(under_test, row_count="estimate")
    with opened(under_test) as source:
        first = source.measure(ds, described(source, ds), AS_OF)
    if not capabilities.metadata_freshness:
        assert (first.last_updated, first.last_updated_method) == (None, None)
        return
    assert first.last_updated_method == "metadata" and first.last_updated is not None
    assert abs((datetime.now(UTC) - first.last_updated).total_seconds()) < 120
    time.sleep(1.1)  # catalogs keep seconds
    under_test.execute("INSERT INTO orders (id) VALUES (100)")
    under_test.record_write("orders")
    under_test.refresh_statistics()
    with opened(under_test) as source:
        meta = described(source, ds)
        statements = capture(source.engine)
        second = source.measure(ds, meta, AS_OF)
    assert second.last_updated is not None and second.last_updated > first.last_updated  # follows writes
    assert statements == []  # freshness and row count from the catalog: no query at all


@pytest.mark.parametrize("under_test", engines_for("observe_scan"), indirect=True)
def test_a_scan_counts_rows_and_reads_the_newest_timestamp_in_one_query(under_test: EngineUnderTest) -> None:
    under_test.execute(ORDERS_DDL, ORDERS_INSERT)
    ds = dataset(under_test, timestamp_column="updated_at")
    with opened(under_test) as source:
        meta = described(source, ds)
        statements = capture(source.engine)
        measurement = source.measure(ds, meta, AS_OF)
    assert len(statements) == 1 and "count(" in statements[0].lower() and "max(" in statements[0].lower()
    assert (measurement.row_count, measurement.row_count_method, measurement.queries) == (10, "exact", 1)
    assert measurement.last_updated == NEWEST


@pytest.mark.parametrize("under_test", engines_for("profile"), indirect=True)
def test_one_profile_scan_measures_every_column(under_test: EngineUnderTest) -> None:
    under_test.execute(ORDERS_DDL, ORDERS_INSERT)
    engine = engine_of(under_test)
    ds = dataset(under_test, timestamp_column="updated_at")
    with opened(under_test) as source:
        profile = profile_dataset(source, ds, described(source, ds), AS_OF, row_hint=len(ORDERS_ROWS))
    stats = {c.column: c.stats for c in profile.columns}
    assert (profile.row_count, profile.queries, profile.distinct_method) == (10, 1, "exact")
    assert profile.details["dialect"] == engine.name
    assert profile.details["timeout_enforcement"] == engine.capabilities.timeout_method
    for index, name in enumerate(ORDERS_COLUMNS):
        values = column(index)
        assert stats[name]["non_null_count"] == len(values), name
        assert stats[name]["null_count"] == len(ORDERS_ROWS) - len(values), name
        assert stats[name]["distinct_count"] == len(set(values)), name
    for name in ("id", "amount", "score"):
        values = column(ORDERS_COLUMNS.index(name))
        assert (stats[name]["min"], stats[name]["max"]) == (min(values), max(values)), name
        assert stats[name]["mean"] == pytest.approx(statistics.mean(values)), name
        assert stats[name]["stddev"] == pytest.approx(statistics.stdev(values)), name
    emails = column(ORDERS_COLUMNS.index("email"))
    assert (stats["email"]["min"], stats["email"]["max"]) == (min(emails), max(emails))
    assert (stats["email"]["min_length"], stats["email"]["max_length"], stats["email"]["empty_count"]) == (
        0,
        6,
        1,
    )
    assert stats["active"]["true_count"] == column(ORDERS_COLUMNS.index("active")).count(True)
    times = [str(stats["updated_at"][key]).replace(" ", "T") for key in ("min", "max")]
    assert times[0].startswith("2026-01-01T10:00:00") and times[1].startswith("2026-01-04T11:00:00")
    assert ("quantiles" in stats["score"]) == engine.capabilities.quantiles
    assert ("nan_count" in stats["score"]) == engine.capabilities.has_nan


@pytest.mark.parametrize("under_test", engines_for("sampling"), indirect=True)
def test_samples_are_native_or_emulated_exactly_as_declared(under_test: EngineUnderTest) -> None:
    under_test.execute(under_test.numbers_table("numbers", 1000))
    capabilities = engine_of(under_test).capabilities
    with opened(under_test) as source:

        def profile(sample: str | int) -> Any:
            ds = dataset(under_test, "numbers", profile={"sample": sample})
            return profile_dataset(source, ds, described(source, ds), AS_OF, row_hint=1000)

        for kind, sample in ((PERCENT, "50%"), (ROWS, 100)):
            if kind not in capabilities.sample_native | capabilities.sample_emulated:
                with pytest.raises(DatasetError, match="not supported") as error:
                    profile(sample)
                assert error.value.kind == ErrorKind.CONFIG
                continue
            native = kind in capabilities.sample_native
            if native and kind == PERCENT and capabilities.sample_blocks:
                # whole storage blocks: a 1000-row table is one block, so it comes back whole or empty,
                # and an empty sample of a non-empty table is an error, never a clean profile
                try:
                    whole = profile(sample)
                except DatasetError as error:
                    assert "returned zero rows although the table has rows" in str(error)
                else:
                    assert whole.sampled and whole.row_count == 1000
                    assert whole.details["sample_method"] not in EMULATED_METHODS
                continue
            sampled = profile(sample)
            assert sampled.sampled and (sampled.details["sample_method"] not in EMULATED_METHODS) == native
            if kind == ROWS:
                assert sampled.row_count == 100
            else:  # 1000 Bernoulli draws at p = 0.5: outside 350..650 about once in 10^20 runs
                assert 350 <= sampled.row_count <= 650


@pytest.mark.parametrize("under_test", engines_for("checks"), indirect=True)
def test_checks_run_through_soda_where_the_engine_has_a_plugin(
    under_test: EngineUnderTest, tmp_path: Path
) -> None:
    under_test.execute(ORDERS_DDL, ORDERS_INSERT)
    root = tmp_path / "project"
    write_project(
        root,
        {"wh": under_test.source()},
        {"wh.orders": {"table": under_test.table("orders"), "primary_key": ["id"]}},
    )
    write_checks(
        root,
        "wh.orders",
        "columns:\n  - {name: email, checks: [{missing: {}}]}\nchecks:\n  - row_count: {}\n",
    )
    results = check_dataset(load_project(root), "wh.orders")
    if engine_of(under_test).capabilities.soda_plugin:
        outcomes = {name: (r.outcome, r.observed_value, r.origin) for name, r in results.items()}
        assert outcomes == {
            "email.missing": (CheckOutcome.FAIL, 1, "user"),
            "id.duplicate": (CheckOutcome.FAIL, 1, "generated"),
            "row_count": (CheckOutcome.PASS, 10, "user"),
        }
    else:  # datahealth computes the generated checks; the user contract is an error saying what runs
        outcomes = {name: (r.outcome, r.observed_value, r.origin) for name, r in results.items()}
        assert outcomes == {
            "contract": (CheckOutcome.ERROR, None, "user"),
            "id.duplicate": (CheckOutcome.FAIL, 1, "generated"),
        }
        message = results["contract"].message
        assert "checks/wh/orders.yml is not run" in message and "no Soda data source" in message
        assert "primary-key duplicates" in message


@pytest.mark.parametrize("under_test", engines_for("schema_change"), indirect=True)
def test_a_schema_change_between_runs_is_a_finding(under_test: EngineUnderTest, tmp_path: Path) -> None:
    under_test.execute(ORDERS_DDL, ORDERS_INSERT)
    root = tmp_path / "project"
    write_project(
        root,
        {"wh": under_test.source()},
        {"wh.orders": {"table": under_test.table("orders"), "timestamp_column": "updated_at"}},
    )
    project = load_project(root)
    options = RunOptions(profile=False, checks=False, publish=False)
    first = run_monitor(project, as_of="2026-01-05T00:00:00Z", options=options)
    assert [d.status for d in first.datasets] == ["ok"]
    under_test.execute(
        "ALTER TABLE orders ADD COLUMN note VARCHAR(20)", "ALTER TABLE orders DROP COLUMN score"
    )
    second = run_monitor(project, as_of="2026-01-05T01:00:00Z", options=options)
    assert [d.status for d in second.datasets] == ["fail"]
    store = HistoryStore.open(project.config.history.url, root)
    try:
        with store.engine.connect() as conn:
            rows = conn.execute(
                sa.select(findings.c.kind, findings.c.details).where(findings.c.run_id == second.run_id)
            ).all()
    finally:
        store.close()
    [(kind, details)] = rows
    assert kind == "schema_change"
    assert [(c["kind"], c["column"]) for c in details["changes"]] == [
        ("column_removed", "score"),
        ("column_added", "note"),
    ]


@pytest.mark.parametrize("under_test", engines_for("missing_table"), indirect=True)
def test_a_missing_table_is_a_missing_error_from_the_catalog_and_from_a_query(
    under_test: EngineUnderTest,
) -> None:
    under_test.execute(ORDERS_DDL, "CREATE TABLE doomed (id INTEGER)")
    doomed = dataset(under_test, "doomed")
    with opened(under_test) as source:
        catalog = source.describe([dataset(under_test), dataset(under_test, "nowhere"), doomed])
        doomed_meta = catalog["wh.doomed"]
    nowhere = catalog["wh.nowhere"]
    assert isinstance(nowhere, DatasetError) and nowhere.kind == ErrorKind.MISSING
    assert f"table {under_test.schema}.nowhere not found in wh" in str(nowhere)
    assert isinstance(catalog["wh.orders"], TableMeta) and isinstance(doomed_meta, TableMeta)
    under_test.execute("DROP TABLE doomed")  # gone between the catalog read and the scan
    with (
        opened(under_test) as source,
        pytest.raises(DatasetError, match="measuring wh.doomed failed") as error,
    ):
        source.measure(doomed, doomed_meta, AS_OF)
    assert error.value.kind == ErrorKind.MISSING


@pytest.mark.parametrize("under_test", engines_for("permission"), indirect=True)
def test_a_table_the_user_may_not_read_is_a_permission_error(under_test: EngineUnderTest) -> None:
    under_test.execute(ORDERS_DDL, ORDERS_INSERT)
    ds = dataset(under_test, timestamp_column="updated_at")
    with opened(under_test, under_test.restricted_url(under_test.table("orders"))) as source:
        seen = source.describe([ds])[ds.name]
        if isinstance(seen, DatasetError):  # engines that hide unreadable tables from the catalog
            error = seen
        else:
            with pytest.raises(DatasetError) as raised:
                source.measure(ds, seen, AS_OF)
            error = raised.value
    assert error.kind == ErrorKind.PERMISSION, error


@pytest.mark.parametrize("under_test", engines_for("timeout"), indirect=True)
def test_a_profile_over_its_time_limit_is_cancelled_and_the_source_still_works(
    under_test: EngineUnderTest,
) -> None:
    under_test.execute(ORDERS_DDL, ORDERS_INSERT, under_test.slow_view("slow"))
    slow = dataset(under_test, "slow", profile={"timeout": "200ms"})
    orders = dataset(under_test)
    with opened(under_test) as source:
        with pytest.raises(DatasetError, match="timed out after 200ms") as error:
            profile_dataset(source, slow, described(source, slow), AS_OF)
        assert error.value.kind == ErrorKind.TIMEOUT
        assert source.measure(orders, described(source, orders), AS_OF).row_count == len(ORDERS_ROWS)
