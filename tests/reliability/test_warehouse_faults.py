"""Warehouse faults in the middle of real runs (a private PostgreSQL we stop and break, lake files we corrupt).

Each test makes the same promises: the other datasets finish, the error is visible (status, report,
metrics, Slack), nothing recorded is lost, and a second run after recovery resolves what recovered.
"""

from __future__ import annotations

import threading
import time
import uuid
from pathlib import Path
from typing import Any

import duckdb
import psycopg
import pytest

from tests.reliability.cluster import PrivateCluster
from tests.reliability.conftest import CLUSTER_PASSWORD
from tests.reliability.expect import assert_error_visible, assert_recovered
from tests.reliability.world import after_datasets, by_dataset, history, run, write_monitoring_project
from tests.support.fake_slack import FakeSlack

pytestmark = pytest.mark.slow

LOADED = "2026-10-10 05:00:00"
FIRST, SECOND, THIRD = "2026-10-10T06:00:00Z", "2026-10-10T07:00:00Z", "2026-10-10T08:00:00Z"
DATASET = {"timestamp_column": "updated_at", "primary_key": ["id"], "sla": {"error_after": "1d"}}


def create_tables(cluster: PrivateCluster, database: str, *names: str) -> None:
    cluster.execute(
        *[
            f"CREATE TABLE {name} AS SELECT g AS id, TIMESTAMP '{LOADED}' AS updated_at "  # noqa: S608
            "FROM generate_series(1, 10) g"
            for name in names
        ],
        dbname=database,
    )


def pg_project(
    root: Path,
    url: str,
    tables: list[str],
    slack: FakeSlack | None = None,
    lake: dict[str, Any] | None = None,
    **source: Any,
) -> Path:
    sources: dict[str, Any] = {"pg": {"kind": "sql", "url": url, **source}}
    datasets: dict[str, Any] = {}
    if lake is not None:
        sources["lake"] = {"kind": "lake", "root": "lake"}
        datasets.update(lake)
    datasets.update({f"pg.{table}": DATASET for table in tables})
    return write_monitoring_project(root, sources, datasets, slack=slack)


def write_parquet(path: Path, first_id: int = 0, rows: int = 20) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect()
    con.execute(
        f"COPY (SELECT range AS id, TIMESTAMP '{LOADED}' AS updated_at FROM range({first_id}, {first_id + rows})) "  # noqa: S608
        f"TO '{path}' (FORMAT parquet)"
    )
    con.close()


def test_postgres_stopping_mid_run_fails_only_the_datasets_not_yet_observed(
    tmp_path: Path, cluster: PrivateCluster, warehouse: str, slack: FakeSlack
) -> None:
    create_tables(cluster, warehouse, "a", "b", "c")
    write_parquet(tmp_path / "lake" / "events" / "part-0.parquet")
    root = pg_project(
        tmp_path,
        cluster.url(warehouse),
        ["a", "b", "c"],
        slack,
        lake={"lake.events": {"path": "events/*.parquet", **DATASET}},
    )

    with after_datasets(2, cluster.stop):  # lake.events and pg.a are done; pg.b and pg.c are not
        summary = run(root, FIRST)
    results = by_dataset(summary)
    assert (results["lake.events"].status, results["pg.a"].status, results["pg.a"].rows) == ("ok", "ok", 10)
    for name in ("pg.b", "pg.c"):
        assert_error_visible(root, summary, name, "unreachable", slack, says="Connection refused")
    assert summary.warnings == [] and CLUSTER_PASSWORD not in str(summary.to_dict())
    stored = history(root, list(results))
    assert {name: [o.status.value for o in rows] for name, rows in stored.items()} == {
        "lake.events": ["ok"],
        "pg.a": ["ok"],
        "pg.b": ["unknown"],
        "pg.c": ["unknown"],
    }

    cluster.start()
    recovered = run(root, SECOND)
    assert_recovered(root, recovered, ["pg.b", "pg.c"], slack)
    assert by_dataset(recovered)["pg.b"].rows == 10
    assert all(len(rows) == 2 for rows in history(root, list(results)).values())


def _terminate_when_running(
    cluster: PrivateCluster, database: str, fragment: str, killed: list[int], application: str = "datahealth"
) -> None:
    """Poll for datahealth's query on `fragment` and terminate its backend (an admin or a failover would)."""
    deadline = time.monotonic() + 60
    with psycopg.connect(cluster.dsn(database), autocommit=True) as conn:
        while time.monotonic() < deadline and not killed:
            row = conn.execute(
                "SELECT pid FROM pg_stat_activity WHERE application_name LIKE %s "
                "AND state = 'active' AND query LIKE %s AND pid <> pg_backend_pid()",
                (application, f"%{fragment}%"),
            ).fetchone()
            if row is not None:
                conn.execute("SELECT pg_terminate_backend(%s)", (row[0],))
                killed.append(row[0])
            else:
                time.sleep(0.05)


def test_a_connection_killed_mid_query_fails_that_dataset_and_the_pool_recovers(
    tmp_path: Path, cluster: PrivateCluster, warehouse: str, slack: FakeSlack
) -> None:
    create_tables(cluster, warehouse, "before", "after")
    cluster.execute(
        f"CREATE VIEW slow AS SELECT g AS id, TIMESTAMP '{LOADED}' AS updated_at "  # noqa: S608
        "FROM generate_series(1, 10) g CROSS JOIN pg_sleep(60) s",
        dbname=warehouse,
    )
    root = pg_project(
        tmp_path, cluster.url(warehouse), ["before", "slow", "after"], slack, statement_timeout="90s"
    )
    killed: list[int] = []
    killer = threading.Thread(
        target=_terminate_when_running, args=(cluster, warehouse, 'FROM "slow"', killed)
    )
    killer.start()
    try:
        summary = run(root, FIRST)
    finally:
        killer.join(timeout=90)
    assert killed, "the slow query never showed up in pg_stat_activity"
    assert_error_visible(root, summary, "pg.slow", "unreachable", slack, says="terminating connection")
    results = by_dataset(summary)
    assert (results["pg.before"].status, results["pg.after"].status) == ("ok", "ok")
    assert results["pg.after"].checks_failed == 0  # the next dataset got a fresh connection, checks included

    cluster.execute(
        f"CREATE OR REPLACE VIEW slow AS SELECT g AS id, TIMESTAMP '{LOADED}' AS updated_at "  # noqa: S608
        "FROM generate_series(1, 10) g",
        dbname=warehouse,
    )
    assert_recovered(root, run(root, SECOND), ["pg.slow"], slack)


def test_a_table_without_select_permission_is_a_permission_error_for_that_table_only(
    tmp_path: Path, cluster: PrivateCluster, warehouse: str, slack: FakeSlack
) -> None:
    create_tables(cluster, warehouse, "orders", "secret", "customers")
    role, password = f"reader_{uuid.uuid4().hex[:8]}", f"reader-pw-{uuid.uuid4().hex[:8]}"
    cluster.execute(
        f"CREATE ROLE {role} LOGIN PASSWORD '{password}'", f"GRANT CONNECT ON DATABASE {warehouse} TO {role}"
    )
    cluster.execute(f"GRANT SELECT ON orders, customers TO {role}", dbname=warehouse)
    root = pg_project(
        tmp_path,
        cluster.url(warehouse, user=role, password=password),
        ["orders", "secret", "customers"],
        slack,
    )

    summary = run(root, FIRST)
    assert_error_visible(
        root, summary, "pg.secret", "permission", slack, says="permission denied for table secret"
    )
    results = by_dataset(summary)
    assert [results[n].status for n in ("pg.orders", "pg.customers")] == ["ok", "ok"]
    assert results["pg.orders"].checks_failed == 0 and password not in str(summary.to_dict())

    cluster.execute(f"GRANT SELECT ON secret TO {role}", dbname=warehouse)
    assert_recovered(root, run(root, SECOND), ["pg.secret"], slack)


def test_a_table_dropped_after_the_catalog_was_read_is_missing_and_its_history_stays(
    tmp_path: Path, cluster: PrivateCluster, warehouse: str, slack: FakeSlack
) -> None:
    create_tables(cluster, warehouse, "a", "b", "c")
    root = pg_project(tmp_path, cluster.url(warehouse), ["a", "b", "c"], slack)
    assert {d.status for d in run(root, FIRST).datasets} == {"ok"}

    with after_datasets(1, lambda: cluster.execute("DROP TABLE b", dbname=warehouse)):
        summary = run(root, SECOND)  # describe saw b; it is gone before it is measured
    assert_error_visible(
        root,
        summary,
        "pg.b",
        "missing",
        slack,
        says='relation "b" does not exist',
        status="fail",
        incident="schema_change",
    )  # it had a schema: the table disappeared
    assert [by_dataset(summary)[n].status for n in ("pg.a", "pg.c")] == ["ok", "ok"]

    create_tables(cluster, warehouse, "b")
    assert_recovered(root, run(root, THIRD), ["pg.b"], slack)
    stored = history(root, ["pg.b"])["pg.b"]
    assert [o.status.value for o in stored] == ["ok", "fail", "ok"] and stored[0].row_count == 10


def test_corrupt_and_truncated_parquet_files_are_corrupt_datasets(tmp_path: Path, slack: FakeSlack) -> None:
    lake = tmp_path / "lake"
    for name in ("good", "truncated", "garbage", "mixed"):
        write_parquet(lake / name / "part-0.parquet")
    write_parquet(lake / "mixed" / "part-1.parquet", first_id=20)
    whole = (lake / "truncated" / "part-0.parquet").read_bytes()
    (lake / "truncated" / "part-0.parquet").write_bytes(whole[: len(whole) // 2])
    (lake / "garbage" / "part-0.parquet").write_bytes(b"PAR1" + bytes(range(256)) * 4 + b"PAR1")
    (lake / "mixed" / "part-1.parquet").write_bytes(whole[: len(whole) - 9])  # footer cut off
    datasets = {
        f"lake.{name}": {"path": f"{name}/*.parquet", **DATASET}
        for name in ("good", "truncated", "garbage", "mixed")
    }
    root = write_monitoring_project(
        tmp_path, {"lake": {"kind": "lake", "root": "lake"}}, datasets, slack=slack
    )

    summary = run(root, FIRST)
    good = by_dataset(summary)["lake.good"]
    assert (good.status, good.rows, good.checks_failed) == ("ok", 20, 0)
    for name in ("lake.truncated", "lake.garbage", "lake.mixed"):
        assert_error_visible(root, summary, name, "corrupt", slack, says="files failed")

    for part in ("truncated/part-0", "garbage/part-0", "mixed/part-1"):
        write_parquet(lake / f"{part}.parquet", first_id=20 if part.startswith("mixed") else 0)
    recovered = run(root, SECOND)
    assert_recovered(root, recovered, ["lake.truncated", "lake.garbage", "lake.mixed"], slack)
    assert by_dataset(recovered)["lake.mixed"].rows == 40


def test_a_connection_lost_during_the_soda_scan_is_unreachable_once(
    tmp_path: Path, cluster: PrivateCluster, warehouse: str, slack: FakeSlack
) -> None:
    """Observe succeeds; the connection dies while Soda scans: one `unreachable` error, not one per check."""
    cluster.execute(
        # IMMUTABLE so the planner drops the unreferenced column from observe's count(*): only Soda's
        # scan, which checks `lazy`, waits in pg_sleep long enough to be terminated.
        "CREATE FUNCTION slow_value(i int) RETURNS int IMMUTABLE LANGUAGE sql "
        "AS $$ SELECT i FROM pg_sleep(10) $$",
        f"CREATE VIEW scanned AS SELECT g AS id, TIMESTAMP '{LOADED}' AS updated_at, "  # noqa: S608
        "slow_value(g) AS lazy FROM generate_series(1, 3) g",
        dbname=warehouse,
    )
    root = pg_project(tmp_path, cluster.url(warehouse), ["scanned"], slack, statement_timeout="90s")
    checks = root / "checks" / "pg" / "scanned.yml"
    checks.parent.mkdir(parents=True, exist_ok=True)
    checks.write_text("columns:\n  - name: lazy\n    checks: [{missing: {}}]\n")
    killed: list[int] = []
    killer = threading.Thread(
        target=_terminate_when_running, args=(cluster, warehouse, '"lazy"', killed, "%")
    )
    killer.start()
    try:
        summary = run(root, FIRST, profile=False)
    finally:
        killer.join(timeout=90)
    assert killed, "Soda's scan never showed up in pg_stat_activity"
    scanned = by_dataset(summary)["pg.scanned"]
    assert (scanned.status, scanned.error_kind) == ("unknown", "unreachable"), scanned
    assert scanned.error is not None and "during checks" in scanned.error
    assert scanned.checks_failed == 0  # not one "not evaluated" error per check
