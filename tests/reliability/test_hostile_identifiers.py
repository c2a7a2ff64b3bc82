"""Hostile table, schema and column names go through observe, profile and checks as names, never as SQL.

Every name below would end or change a statement if it were pasted into SQL; a `canary` table that any
executed fragment would drop must survive, and every number must be right (a quoting mistake shows up
as an error or as a wrong count long before it shows up as an injection).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb
import psycopg

from datahealth.store import HistoryStore, read
from tests.reliability.cluster import PrivateCluster
from tests.reliability.world import by_dataset, open_store, run, write_monitoring_project
from tests.support.projects import write_checks

AS_OF = "2026-10-10T06:00:00Z"
UPDATED = "upd at; DROP TABLE canary; --"
COLUMNS = ["id", "order", 'a"b', "x'); DROP TABLE canary; --", "naïve çolumn", "select", UPDATED]
TABLES = {  # dataset → table; no '.' (it separates schema and table in `table:`)
    "semicolon": "select; DROP TABLE canary; --",
    "unicode": "Ünïcødé tåble ✓",
    "reserved": "from",
}
QUOTED_TABLE = 'we"ird'  # Soda's qualified names cannot hold a '"': checks refuse it with a clear error
CONTRACT = """\
columns:
  - name: 'x''); DROP TABLE canary; --'
    checks: [{missing: {}}]
  - name: 'a"b'
    checks: [{invalid: {valid_values: ['q"1', 'q"2']}}]
checks:
  - row_count: {threshold: {must_be: 5}}
"""


def q(name: str) -> str:
    """The tests' own quoting for their fixture DDL."""
    return '"' + name.replace('"', '""') + '"'


def fill_sql(table: str) -> list[str]:
    """5 rows: `order` NULL in rows 2 and 4, `a"b` holds values with quotes, a timestamp per row."""
    columns = ", ".join(
        f"{q(c)} {'INTEGER' if c == 'id' else 'TIMESTAMP' if c == UPDATED else 'VARCHAR'}" for c in COLUMNS
    )
    return [
        f"CREATE TABLE {table} ({columns})",
        f"INSERT INTO {table} SELECT g, CASE WHEN g % 2 = 0 THEN NULL ELSE 'v' || g END, "  # noqa: S608
        "CASE WHEN g < 3 THEN 'q\"1' ELSE 'q\"2' END, 'x''y', 'ü', 's', "
        "TIMESTAMP '2026-10-10 05:00:00' - g * INTERVAL '1 minute' FROM generate_series(1, 5) AS t(g)",
    ]


def datasets(tables: dict[str, str]) -> dict[str, Any]:
    return {
        name: {
            "table": table,
            "timestamp_column": UPDATED,
            "primary_key": ["id"],
            "required_columns": COLUMNS,
        }
        for name, table in tables.items()
    }


def assert_measured_right(
    store: HistoryStore, dataset: str, summary_item: Any, *, checked: bool = True
) -> None:
    assert summary_item.rows == 5, summary_item
    if checked:
        assert summary_item.error is None, summary_item
    else:  # what could not be checked is said, never passed over
        assert "cannot be checked with Soda" in summary_item.error, summary_item
    assert summary_item.last_updated == "2026-10-10T04:59:00+00:00"
    profile = {p.column: p for p in read.latest_profile(store, dataset)}
    assert set(profile) == set(COLUMNS)
    assert (profile["order"].null_count, profile["order"].distinct_count) == (2, 3)
    assert (profile['a"b'].distinct_count, profile["id"].distinct_count) == (2, 5)
    if not checked:
        return
    observation = read.latest_observations(store, [dataset])[dataset]
    checks = {
        c.name: (c.outcome, c.observed_value) for c in read.checks_of(store, [observation.id])[observation.id]
    }
    assert checks["order.missing"] == ("fail", 2.0)  # the one real failure: NULLs in a required column
    assert checks["id.duplicate"] == ("pass", 0.0)
    for column in COLUMNS[1:]:
        assert f"{column}.missing" in checks
    assert {name: outcome for name, (outcome, _) in checks.items() if outcome != "pass"} == {
        "order.missing": "fail"
    }


def test_hostile_names_on_duckdb_and_a_lake_are_quoted_never_executed(tmp_path: Path) -> None:
    database = tmp_path / "wh.duckdb"
    con = duckdb.connect(str(database))
    con.execute("CREATE TABLE canary AS SELECT 42 AS x")
    for table in [*TABLES.values(), QUOTED_TABLE]:
        for statement in fill_sql(q(table)):
            con.execute(statement)
    lake_file = tmp_path / "lake" / "events" / "part-0.parquet"
    lake_file.parent.mkdir(parents=True)
    con.execute(f"COPY {q(TABLES['semicolon'])} TO '{lake_file}' (FORMAT parquet)")
    con.close()
    names = {f"wh.{name}": table for name, table in TABLES.items()} | {"wh.quoted": QUOTED_TABLE}
    config = datasets(names) | {
        "lake.events": {
            "path": "events/*.parquet",
            "timestamp_column": UPDATED,
            "primary_key": ["id"],
            "required_columns": COLUMNS,
        }
    }
    root = write_monitoring_project(
        tmp_path,
        {"wh": {"kind": "sql", "url": "duckdb:///wh.duckdb"}, "lake": {"kind": "lake", "root": "lake"}},
        config,
    )
    for name in [*names, "lake.events"]:
        write_checks(root, name, CONTRACT)

    summary = run(root, AS_OF, report=False, max_workers=4)
    results = by_dataset(summary)
    store = open_store(root)
    try:
        for name in [*(f"wh.{n}" for n in TABLES), "lake.events"]:
            assert_measured_right(store, name, results[name])
            observation = read.latest_observations(store, [name])[name]
            user = {
                c.name: (c.outcome, c.observed_value)
                for c in read.checks_of(store, [observation.id])[observation.id]
                if c.origin == "user"
            }
            assert user == {
                "x'); DROP TABLE canary; --.missing": ("pass", 0.0),
                'a"b.invalid': ("pass", 0.0),
                "row_count": ("pass", 5.0),
            }
        assert_measured_right(store, "wh.quoted", results["wh.quoted"], checked=False)
        quoted = read.latest_observations(store, ["wh.quoted"])["wh.quoted"]
        [refused] = read.checks_of(store, [quoted.id])[quoted.id]
        assert refused.outcome == "error" and "cannot be checked with Soda" in refused.message
    finally:
        store.close()
    con = duckdb.connect(str(database), read_only=True)
    assert con.execute("SELECT x FROM canary").fetchall() == [(42,)]
    con.close()


def test_hostile_names_on_postgresql_are_quoted_never_executed(
    tmp_path: Path, cluster: PrivateCluster, warehouse: str
) -> None:
    schema = "Sch ema; DROP TABLE canary; --"
    cluster.execute(
        "CREATE TABLE canary AS SELECT 42 AS x",
        f"CREATE SCHEMA {q(schema)}",
        *fill_sql(f"{q(schema)}.{q(TABLES['semicolon'])}"),
        *fill_sql(q(TABLES["unicode"])),
        *fill_sql(q(TABLES["reserved"])),
        dbname=warehouse,
    )
    names = {
        "pg.schema": f"{schema}.{TABLES['semicolon']}",
        "pg.unicode": TABLES["unicode"],
        "pg.reserved": TABLES["reserved"],
    }
    root = write_monitoring_project(
        tmp_path, {"pg": {"kind": "sql", "url": cluster.url(warehouse)}}, datasets(names)
    )
    for name in names:
        write_checks(root, name, CONTRACT)

    first = run(root, AS_OF, report=False, max_workers=4)
    second = run(root, "2026-10-10T06:30:00Z", report=False, max_workers=4)  # now with the schema check
    store = open_store(root)
    try:
        for name in names:
            assert_measured_right(store, name, by_dataset(first)[name])
            assert_measured_right(store, name, by_dataset(second)[name])
            observation = read.latest_observations(store, [name])[name]
            checks = {c.name: c.outcome for c in read.checks_of(store, [observation.id])[observation.id]}
            assert checks["schema"] == "pass" and checks["row_count"] == "pass"
    finally:
        store.close()
    with psycopg.connect(cluster.dsn(warehouse)) as conn:
        assert conn.execute("SELECT x FROM canary").fetchall() == [(42,)]
