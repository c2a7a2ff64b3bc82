"""Tests for the demo data platform.

The demo promises users that the monitor will find exactly four incidents, so these tests pin
down that each fault really is in the data on its day, that nothing else looks broken, and that
the generator is deterministic (otherwise the promise could not be made at all).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import duckdb
import pytest

from datahealth.demo.platform import (
    DATASETS,
    DEMO_FAULTS,
    DEMO_START,
    INITIAL_CUSTOMERS,
    PRODUCT_COUNT,
    STREAM_DATASETS,
    WAREHOUSE_DATASETS,
    DemoFault,
    DemoPlatform,
)

WAREHOUSE_TABLES = ("products", "customers", "email_events", "purchases")
EXPECTED_COLUMNS = {
    "products": [
        ("product_id", "INTEGER"),
        ("sku", "VARCHAR"),
        ("name", "VARCHAR"),
        ("category", "VARCHAR"),
        ("price", "DECIMAL(10,2)"),
        ("created_at", "TIMESTAMP"),
        ("updated_at", "TIMESTAMP"),
    ],
    "customers": [
        ("customer_id", "BIGINT"),
        ("email", "VARCHAR"),
        ("first_name", "VARCHAR"),
        ("last_name", "VARCHAR"),
        ("country", "VARCHAR"),
        ("segment", "VARCHAR"),
        ("opted_in", "BOOLEAN"),
        ("created_at", "TIMESTAMP"),
        ("updated_at", "TIMESTAMP"),
    ],
    "email_events": [
        ("event_id", "BIGINT"),
        ("customer_id", "BIGINT"),
        ("campaign_id", "VARCHAR"),
        ("event_type", "VARCHAR"),
        ("event_ts", "TIMESTAMP"),
        ("subject_variant", "VARCHAR"),
        ("device", "VARCHAR"),
    ],
    "purchases": [
        ("purchase_id", "BIGINT"),
        ("customer_id", "BIGINT"),
        ("product_id", "INTEGER"),
        ("quantity", "INTEGER"),
        ("amount", "DECIMAL(12,2)"),
        ("currency", "VARCHAR"),
        ("purchased_at", "TIMESTAMP"),
        ("attributed_campaign_id", "VARCHAR"),
    ],
}
CLEAN_CLICKSTREAM_COLUMNS = [
    ("event_id", "VARCHAR"),
    ("customer_id", "BIGINT"),
    ("session_id", "VARCHAR"),
    ("page_url", "VARCHAR"),
    ("referrer", "VARCHAR"),
    ("event_ts", "TIMESTAMP"),
    ("duration_ms", "BIGINT"),
]
CRM_COLUMNS = ["customer_id", "email", "lifecycle_stage", "lead_score", "exported_at"]


@dataclass(frozen=True)
class Snapshot:
    """What a read-only observer sees in the warehouse right after one ``append_day``."""

    customers: int
    duplicate_ids: int
    null_customer_events: int
    purchases: int
    max_purchased_at: datetime
    products_max_updated: datetime


@dataclass
class Run:
    """A platform after some days, plus what a read-only "monitor" saw after each day."""

    platform: DemoPlatform
    counts: dict[int, dict[str, int]] = field(default_factory=dict)
    snapshots: dict[int, Snapshot] = field(default_factory=dict)


def _snapshot(path: Path) -> Snapshot:
    """Observe the warehouse read-only, exactly as the monitor will between two days."""
    with duckdb.connect(str(path), read_only=True) as con:
        row = con.execute(
            """
            SELECT
                (SELECT count(*) FROM customers),
                (SELECT count(*) FROM (
                    SELECT customer_id FROM customers GROUP BY 1 HAVING count(*) > 1)),
                (SELECT count(*) FROM email_events WHERE customer_id IS NULL),
                (SELECT count(*) FROM purchases),
                (SELECT max(purchased_at) FROM purchases),
                (SELECT max(updated_at) FROM products)
            """
        ).fetchone()
    assert row is not None
    return Snapshot(*row)


def _build(root: Path, days: range, seed: int = 7, scale: float = 1.0) -> Run:
    run = Run(DemoPlatform(root, seed=seed, scale=scale))
    run.platform.reset()
    for day in days:
        run.counts[day] = run.platform.append_day(day)
        run.snapshots[day] = _snapshot(run.platform.warehouse_path)
    return run


def _fingerprint(platform: DemoPlatform) -> dict[str, tuple[object, ...]]:
    """Row count plus an order-insensitive hash of every row, per table and per lake file."""
    prints: dict[str, tuple[object, ...]] = {}
    with duckdb.connect(str(platform.warehouse_path), read_only=True) as con:
        for table in WAREHOUSE_TABLES:
            row = con.execute(f"SELECT count(*), sum(hash(t)) FROM {table} AS t").fetchone()  # noqa: S608
            assert row is not None
            prints[table] = tuple(row)
    with duckdb.connect() as con:
        for path in sorted(platform.lake_root.rglob("*.*")):
            reader = "read_parquet" if path.suffix == ".parquet" else "read_csv"
            row = con.execute(f"SELECT count(*), sum(hash(t)) FROM {reader}(?) AS t", [str(path)]).fetchone()  # noqa: S608
            assert row is not None
            prints[str(path.relative_to(platform.root))] = tuple(row)
    return prints


def _parquet_columns(path: Path, con: duckdb.DuckDBPyConnection | None = None) -> list[tuple[str, str]]:
    """Column names and types of one parquet file, ignoring the hive partition column."""
    if con is None:
        with duckdb.connect() as own:
            return _parquet_columns(path, own)
    sql = "DESCRIBE SELECT * FROM read_parquet(?, hive_partitioning = false)"
    return [(r[0], r[1]) for r in con.execute(sql, [str(path)]).fetchall()]


@pytest.fixture(scope="module")
def early(tmp_path_factory: pytest.TempPathFactory) -> Run:
    """Days 0..2 only: enough to check the initial load and the first incremental batches."""
    return _build(tmp_path_factory.mktemp("early"), range(3))


@pytest.fixture(scope="module")
def full(tmp_path_factory: pytest.TempPathFactory) -> Run:
    """All 30 days at a tenth of the volume, shared by the fault tests.

    The faults do not depend on volume, and the small scale keeps the file well under 10 s;
    full-volume behaviour is covered by ``early``.
    """
    return _build(tmp_path_factory.mktemp("full"), range(30), scale=0.1)


# -- layout and volumes -----------------------------------------------------------------------


def test_clock_and_layout(tmp_path: Path) -> None:
    platform = DemoPlatform(tmp_path)
    assert platform.warehouse_path == tmp_path / "warehouse.duckdb"
    assert platform.lake_root == tmp_path / "lake"
    assert platform.day_date(0) == DEMO_START == date(2026, 10, 1)
    assert platform.day_date(29) == date(2026, 10, 30)
    assert platform.load_time(3) == datetime(2026, 10, 4, 5, 30)
    start, end = platform.activity_window(3)
    assert (start, end) == (datetime(2026, 10, 3), datetime(2026, 10, 4))
    assert end <= platform.load_time(3)


def test_reset_creates_empty_tables_and_lake_dirs(tmp_path: Path) -> None:
    platform = DemoPlatform(tmp_path / "demo")
    (tmp_path / "demo").mkdir()
    (tmp_path / "demo" / "leftover.txt").write_text("stale")
    platform.reset()
    assert not (tmp_path / "demo" / "leftover.txt").exists()
    assert (platform.lake_root / "clickstream").is_dir()
    assert (platform.lake_root / "crm_exports").is_dir()
    with duckdb.connect(str(platform.warehouse_path), read_only=True) as con:
        for table, columns in EXPECTED_COLUMNS.items():
            described = con.execute(f"DESCRIBE {table}").fetchall()
            assert [(r[0], r[1]) for r in described] == columns
            assert con.execute(f"SELECT count(*) FROM {table}").fetchone() == (0,)  # noqa: S608


def test_first_days_have_plausible_volumes(early: Run) -> None:
    platform = early.platform
    day0, day1, day2 = early.counts[0], early.counts[1], early.counts[2]
    assert set(day0) == set(DATASETS)
    assert day0["warehouse.products"] == PRODUCT_COUNT
    assert day1["warehouse.products"] == day2["warehouse.products"] == 0
    assert day0["warehouse.customers"] == INITIAL_CUSTOMERS
    for counts in (day1, day2):
        assert 40 <= counts["warehouse.customers"] <= 80
    for counts in (day0, day1, day2):
        assert 11_000 <= counts["warehouse.email_events"] <= 21_000
        assert 800 <= counts["warehouse.purchases"] <= 1_200
        assert 28_000 <= counts["lake.clickstream"] <= 32_000
        assert 300 <= counts["lake.crm_exports"] <= 600

    with duckdb.connect(str(platform.warehouse_path), read_only=True) as con:
        for table, dataset in zip(WAREHOUSE_TABLES, WAREHOUSE_DATASETS, strict=True):
            (stored,) = con.execute(f"SELECT count(*) FROM {table}").fetchone() or (None,)  # noqa: S608
            assert stored == sum(c[dataset] for c in early.counts.values()), table
        # Emails look like firstname.lastname123@example.com and customer ids are unique.
        bad_emails = con.execute(
            "SELECT count(*) FROM customers WHERE NOT regexp_full_match(email, '[a-z]+\\.[a-z]+[0-9]+@example\\.com')"
        ).fetchone()
        assert bad_emails == (0,)
        assert con.execute("SELECT count(*) - count(DISTINCT customer_id) FROM customers").fetchone() == (0,)
        shares = dict(
            con.execute(
                "SELECT event_type, count(*) / sum(count(*)) OVER () FROM email_events GROUP BY 1"
            ).fetchall()
        )
        assert set(shares) == {"sent", "delivered", "opened", "clicked", "bounced", "unsubscribed"}
        assert shares["sent"] > shares["delivered"] > shares["opened"] > shares["clicked"] > shares["bounced"]
        assert shares["bounced"] > shares["unsubscribed"]
        (attributed_null,) = con.execute(
            "SELECT avg((attributed_campaign_id IS NULL)::INTEGER) FROM purchases"
        ).fetchone() or (None,)
        assert 0.55 < attributed_null < 0.65

    for day in range(3):
        clicks = platform.clickstream_file(day)
        assert clicks.parent.name == f"event_date={platform.activity_window(day)[0].date().isoformat()}"
        assert _parquet_columns(clicks) == CLEAN_CLICKSTREAM_COLUMNS
        crm = platform.crm_export_file(day)
        assert crm.name == f"crm_export_{platform.day_date(day).isoformat()}.csv"
        assert crm.read_text().splitlines()[0].split(",") == CRM_COLUMNS


def test_same_seed_gives_identical_data(early: Run, tmp_path: Path) -> None:
    again = _build(tmp_path / "again", range(3))
    assert again.counts == early.counts
    assert _fingerprint(again.platform) == _fingerprint(early.platform)


def test_different_seed_gives_different_data(early: Run, tmp_path: Path) -> None:
    other = _build(tmp_path / "other", range(1), seed=8, scale=0.1)
    mine = _fingerprint(early.platform)
    theirs = _fingerprint(other.platform)
    assert theirs["customers"] != mine["customers"]
    assert theirs["products"] != mine["products"]


def test_scale_only_changes_high_volume_datasets(early: Run, tmp_path: Path) -> None:
    small = _build(tmp_path / "small", range(1), scale=0.1)
    for dataset in ("warehouse.products", "warehouse.customers", "lake.crm_exports"):
        assert small.counts[0][dataset] == early.counts[0][dataset], dataset
    for dataset in ("warehouse.email_events", "warehouse.purchases", "lake.clickstream"):
        assert abs(small.counts[0][dataset] - early.counts[0][dataset] / 10) <= 1, dataset
    # Day-0 customers and the catalogue are identical at any scale (products' updated_at is
    # left out because ``early`` has since bumped a few of them).
    query = """
        SELECT
            (SELECT sum(hash(t)) FROM customers AS t WHERE customer_id <= $initial),
            (SELECT sum(hash(product_id, sku, name, category, price, created_at)) FROM products)
    """
    prints = []
    for platform in (early.platform, small.platform):
        with duckdb.connect(str(platform.warehouse_path), read_only=True) as con:
            prints.append(con.execute(query, {"initial": INITIAL_CUSTOMERS}).fetchone())
    assert prints[0] == prints[1]


def test_lake_file_mtimes_equal_load_time(full: Run) -> None:
    platform = full.platform
    for day in range(30):
        expected = platform.load_time(day).replace(tzinfo=UTC).timestamp()
        for path in (platform.clickstream_file(day), platform.crm_export_file(day)):
            assert os.stat(path).st_mtime == expected, path
    assert len(list(platform.lake_root.rglob("*.parquet"))) == 30
    assert len(list(platform.lake_root.rglob("*.csv"))) == 30


def test_weekend_email_volume_is_lower(full: Run) -> None:
    with duckdb.connect(str(full.platform.warehouse_path), read_only=True) as con:
        per_date = con.execute(
            "SELECT isodow(event_ts::DATE) >= 6, count(*) FROM email_events GROUP BY event_ts::DATE"
        ).fetchall()
    weekend = [n for is_weekend, n in per_date if is_weekend]
    weekday = [n for is_weekend, n in per_date if not is_weekend]
    assert weekend and weekday
    assert max(weekend) < 0.75 * min(weekday)


def test_products_stay_fresh(full: Run) -> None:
    for day in range(1, 30):
        start, end = full.platform.activity_window(day)
        assert start <= full.snapshots[day].products_max_updated < end, day


# -- faults -----------------------------------------------------------------------------------


def test_fault_schedule() -> None:
    assert [(f.day, f.dataset, f.kind) for f in DEMO_FAULTS] == [
        (9, "stream.clickstream", "consumer_stalls"),
        (13, "lake.clickstream", "events_dropped"),
        (18, "warehouse.email_events", "required_nulls"),
        (22, "warehouse.customers", "duplicate_rows"),
        (25, "warehouse.purchases", "stops_loading"),
        (27, "lake.clickstream", "schema_drift"),
    ]
    assert all(isinstance(f, DemoFault) and f.description.endswith(".") for f in DEMO_FAULTS)
    assert {f.dataset for f in DEMO_FAULTS} <= set(DATASETS) | set(STREAM_DATASETS)


def test_required_nulls_only_on_day_18(full: Run) -> None:
    for day in range(30):
        nulls = full.snapshots[day].null_customer_events
        assert nulls == (0 if day < 18 else full.snapshots[18].null_customer_events), day
    start, end = full.platform.activity_window(18)
    with duckdb.connect(str(full.platform.warehouse_path), read_only=True) as con:
        row = con.execute(
            """
            SELECT
                count(*) FILTER (customer_id IS NULL),
                count(*) FILTER (customer_id IS NULL AND event_ts >= ? AND event_ts < ?),
                count(*) FILTER (event_ts >= ? AND event_ts < ?)
            FROM email_events
            """,
            [start, end, start, end],
        ).fetchone()
    assert row is not None
    total_nulls, nulls_on_day, rows_on_day = row
    assert total_nulls == nulls_on_day
    assert rows_on_day == full.counts[18]["warehouse.email_events"]
    assert 0.015 < nulls_on_day / rows_on_day < 0.045


def test_duplicate_customers_only_from_day_22(full: Run) -> None:
    for day in range(30):
        assert full.snapshots[day].duplicate_ids == (25 if day >= 22 else 0), day
    assert (
        full.snapshots[22].customers == full.snapshots[21].customers + full.counts[22]["warehouse.customers"]
    )
    with duckdb.connect(str(full.platform.warehouse_path), read_only=True) as con:
        # The copies are verbatim: each duplicated id has exactly one distinct row.
        distinct_rows = con.execute(
            """
            SELECT count(*), count(DISTINCT t) FROM customers AS t
            WHERE customer_id IN (SELECT customer_id FROM customers GROUP BY 1 HAVING count(*) > 1)
            """
        ).fetchone()
    assert distinct_rows == (50, 25)


def test_purchases_stop_loading_from_day_25(full: Run) -> None:
    maxima = [full.snapshots[day].max_purchased_at for day in range(30)]
    for day in range(1, 25):
        assert maxima[day] > maxima[day - 1], day
        assert full.counts[day]["warehouse.purchases"] > 0
    for day in range(25, 30):
        assert maxima[day] == maxima[24]
        assert full.counts[day]["warehouse.purchases"] == 0
        assert full.snapshots[day].purchases == full.snapshots[24].purchases
    # Stuck at the last activity day the feed delivered, i.e. before day 25's batch.
    assert maxima[24] < full.platform.activity_window(24)[1] < full.platform.load_time(25)


def test_clickstream_schema_drift_only_on_day_27(full: Run) -> None:
    platform = full.platform
    with duckdb.connect() as con:
        for day in range(30):
            columns = _parquet_columns(platform.clickstream_file(day), con)
            if day == 27:
                assert dict(columns)["duration_ms"] == "VARCHAR"
                assert columns[-1] == ("experiment_id", "VARCHAR")
            else:
                assert columns == CLEAN_CLICKSTREAM_COLUMNS, day
        physical = {
            day: con.execute(
                "SELECT name, type FROM parquet_schema(?) WHERE name <> 'duckdb_schema'",
                [str(platform.clickstream_file(day))],
            ).fetchall()
            for day in (26, 27, 28)
        }
        sample = con.execute(
            "SELECT duration_ms FROM read_parquet(?) LIMIT 1", [str(platform.clickstream_file(27))]
        ).fetchone()
    assert physical[26] == physical[28] != physical[27]
    assert ("duration_ms", "INT64") in physical[26]
    assert ("duration_ms", "BYTE_ARRAY") in physical[27]
    assert sample is not None and str(sample[0]).endswith("ms")


def test_everything_else_is_clean(full: Run) -> None:
    """Apart from the four faults, the checks a monitor would run must all pass."""
    platform = full.platform
    last_load = platform.load_time(29)
    with duckdb.connect(str(platform.warehouse_path), read_only=True) as con:
        problems = con.execute(
            """
            SELECT
                (SELECT count(*) - count(DISTINCT event_id) FROM email_events),
                (SELECT count(*) - count(DISTINCT purchase_id) FROM purchases),
                (SELECT count(*) FROM email_events e
                    WHERE customer_id IS NOT NULL
                    AND NOT EXISTS (SELECT 1 FROM customers c WHERE c.customer_id = e.customer_id)),
                (SELECT count(*) FROM purchases p
                    WHERE NOT EXISTS (SELECT 1 FROM customers c WHERE c.customer_id = p.customer_id)
                    OR NOT EXISTS (SELECT 1 FROM products r WHERE r.product_id = p.product_id)),
                (SELECT count(*) FROM purchases WHERE customer_id IS NULL OR amount <= 0 OR quantity <= 0),
                (SELECT count(*) FROM customers
                    WHERE email IS NULL OR created_at > updated_at OR updated_at >= ?),
                (SELECT count(*) FROM email_events WHERE event_ts >= ?),
                (SELECT count(*) FROM products WHERE price <= 0 OR created_at > updated_at)
            """,
            [last_load, last_load],
        ).fetchone()
    assert problems == (0, 0, 0, 0, 0, 0, 0, 0)

    with duckdb.connect() as con:
        clicks = con.execute(
            """
            SELECT count(*), count(*) FILTER (event_ts::DATE <> event_date),
                   avg((customer_id IS NULL)::INTEGER)
            FROM read_parquet(?, hive_partitioning = true, union_by_name = true)
            WHERE event_date <> ?
            """,
            [
                str(platform.lake_root / "clickstream" / "*" / "*.parquet"),
                platform.activity_window(27)[0].date(),
            ],
        ).fetchone()
        crm = con.execute(
            "SELECT count(*) FILTER (email IS NULL OR lead_score NOT BETWEEN 0 AND 100) FROM read_csv(?)",
            [str(platform.lake_root / "crm_exports" / "*.csv")],
        ).fetchone()
    assert clicks is not None
    assert clicks[1] == 0
    assert 0.25 < clicks[2] < 0.35
    assert crm == (0,)


def test_event_timestamps_precede_load_time(full: Run) -> None:
    platform = full.platform
    with duckdb.connect(str(platform.warehouse_path), read_only=True) as con:
        for day in (0, 9, 29):
            start, end = platform.activity_window(day)
            assert end <= platform.load_time(day) - timedelta(hours=5)
            (count,) = con.execute(
                "SELECT count(*) FROM email_events WHERE event_ts >= ? AND event_ts < ?", [start, end]
            ).fetchone() or (None,)
            assert count == full.counts[day]["warehouse.email_events"]
