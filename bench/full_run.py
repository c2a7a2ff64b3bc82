"""Full run benchmark: how many times a full run (observe + profile + checks) reads each table, and how
its wall time compares with the floors of the reads it needs.

One dataset per engine over the profile benchmark's 12-column table (bench/profile.py): DuckDB (10M rows
in a temporary file) and PostgreSQL (2M rows in a temporary database), with a timestamp column and a
primary key, so the run observes, profiles and runs the generated Soda checks (primary-key duplicates,
schema). Counted from what the engine executed (tests/support/scans.py): DuckDB's query log and
PostgreSQL's per-table scan counters, which see Soda's own connections too. Catalog queries read the
catalog, not the table, and are not counted.

Floors: the hand-written one-pass profile query (which also yields count and max(ts)) plus the
hand-written query of the checks (count, distinct and null primary keys), timed on their own; the run's
wall time is compared with their sum. Writes bench/results/run.json.
Environment: BENCH_RUN_DUCKDB_ROWS, BENCH_RUN_PG_ROWS, BENCH_RUN_REPEAT (default 3).
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

os.environ.setdefault("SODA_CORE_TELEMETRY_ENABLED", "false")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import duckdb  # noqa: E402
import psycopg  # noqa: E402
from tests.support.postgres import admin_dsn, sqlalchemy_url  # noqa: E402
from tests.support.projects import write_project  # noqa: E402
from tests.support.scans import duckdb_query_log, duckdb_table_reads, postgres_table_scans  # noqa: E402

from bench.common import machine_load, print_table, write_results  # noqa: E402
from bench.profile import DUCKDB_TABLE, PG_TABLE, floor_sql  # noqa: E402
from datahealth.config import load_project  # noqa: E402
from datahealth.config.models import SqlSourceConfig  # noqa: E402
from datahealth.core.run import RunOptions  # noqa: E402
from datahealth.monitor.runner import run_monitor  # noqa: E402
from datahealth.profiling.profiler import EXACT_DISTINCT_MAX_ROWS, QUANTILE_SAMPLE_ROWS  # noqa: E402
from datahealth.sources.sql import SqlSource  # noqa: E402

DUCKDB_ROWS = int(os.environ.get("BENCH_RUN_DUCKDB_ROWS", "10000000"))
PG_ROWS = int(os.environ.get("BENCH_RUN_PG_ROWS", "2000000"))
REPEAT = int(os.environ.get("BENCH_RUN_REPEAT", "3"))
TARGET_STATEMENTS = 2
CHECKS_FLOOR = 'SELECT count(*), count(DISTINCT "id"), count(*) - count("id") FROM {table}'  # noqa: S608
DATASET = {
    "table": "bench",
    "timestamp_column": "created_at",
    "primary_key": ["id"],
    "sla": {"error_after": "1000d"},
    "profile": {"timeout": "30m"},
}


def project(root: Path, url: str) -> Path:
    return write_project(
        root,
        sources={"wh": {"kind": "sql", "url": url, "statement_timeout": "30m"}},
        datasets={"wh.bench": DATASET},
    )


def full_run(root: Path) -> Callable[[], None]:
    loaded = load_project(root)

    def run() -> None:
        summary = run_monitor(loaded, options=RunOptions(publish=False))
        [dataset] = summary.datasets
        if dataset.error or dataset.status == "error":
            raise RuntimeError(f"the full run failed: {dataset}")

    return run


def statements(root: Path, sql: list[str]) -> Callable[[], None]:
    """The floors, run through the source as datahealth opens it (DuckDB refuses a second, differently
    configured connection to the same file in one process)."""
    config = load_project(root).config.sources["wh"]
    assert isinstance(config, SqlSourceConfig)
    source = SqlSource("wh", config, root)

    def run() -> None:
        with source.engine.connect() as conn:
            for statement in sql:
                conn.exec_driver_sql(statement).fetchall()
        source.close()

    return run


def median_seconds(fn: Callable[[], Any]) -> float:
    samples = []
    for _ in range(REPEAT):
        started = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - started)
    return statistics.median(samples)


def timings(
    run: Callable[[], None], profile_floor: Callable[[], None], checks_floor: Callable[[], None]
) -> dict[str, Any]:
    """Interleaved: each round runs the full run and both floors, so load hits them alike."""
    samples: dict[str, list[float]] = {"full_run": [], "profile_floor": [], "checks_floor": []}
    for _ in range(REPEAT):
        for name, fn in (("full_run", run), ("profile_floor", profile_floor), ("checks_floor", checks_floor)):
            started = time.perf_counter()
            fn()
            samples[name].append(time.perf_counter() - started)
    medians = {name: statistics.median(values) for name, values in samples.items()}
    floors = medians["profile_floor"] + medians["checks_floor"]
    return {
        "full_run_seconds": round(medians["full_run"], 3),
        "profile_floor_seconds": round(medians["profile_floor"], 3),
        "checks_floor_seconds": round(medians["checks_floor"], 3),
        "sum_of_floors_seconds": round(floors, 3),
        "ratio_to_floors": round(medians["full_run"] / floors, 3),
    }


def bench_duckdb(workdir: Path) -> dict[str, Any]:
    with duckdb.connect(str(workdir / "wh.duckdb")) as con:
        con.execute(DUCKDB_TABLE.format(rows=DUCKDB_ROWS))
    root = project(workdir, "duckdb:///wh.duckdb")
    run = full_run(root)
    with duckdb_query_log(workdir / "query-log") as log_dir:
        run()  # counted, and the warm-up of every later round
    reads = duckdb_table_reads(log_dir, "bench")
    fraction = (
        None if DUCKDB_ROWS <= QUANTILE_SAMPLE_ROWS * 2 else round(QUANTILE_SAMPLE_ROWS / DUCKDB_ROWS, 8)
    )
    exact = DUCKDB_ROWS <= EXACT_DISTINCT_MAX_ROWS
    figures = timings(
        run,
        statements(root, [floor_sql("duckdb", fraction, exact)]),
        statements(root, [CHECKS_FLOOR.format(table="main.bench")]),
    )
    return {"rows": DUCKDB_ROWS, "statements_per_dataset": len(reads), **figures}


def bench_postgres(workdir: Path) -> dict[str, Any]:
    name = f"dh_bench_run_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(admin_dsn(), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        with psycopg.connect(admin_dsn(name), autocommit=True) as conn:
            conn.execute(PG_TABLE.format(rows=PG_ROWS))  # type: ignore[arg-type]  (benchmark DDL)
            conn.execute("VACUUM ANALYZE bench")
        root = project(workdir, sqlalchemy_url(name))
        run = full_run(root)
        before = postgres_table_scans(name, ["bench"]).get("bench", 0)
        run()  # counted, and the warm-up of every later round
        scans = postgres_table_scans(name, ["bench"]).get("bench", 0) - before
        figures = timings(
            run,
            statements(root, [floor_sql("postgresql", None)]),
            statements(root, [CHECKS_FLOOR.format(table="public.bench")]),
        )
        return {"rows": PG_ROWS, "statements_per_dataset": scans, **figures}
    finally:
        with psycopg.connect(admin_dsn(), autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def main() -> int:
    started = time.perf_counter()
    results: dict[str, Any] = {"machine": machine_load(), "target_statements_per_dataset": TARGET_STATEMENTS}
    with tempfile.TemporaryDirectory(prefix="dh-bench-run-duckdb-") as tmp:
        results["duckdb"] = bench_duckdb(Path(tmp))
    with tempfile.TemporaryDirectory(prefix="dh-bench-run-pg-") as tmp:
        results["postgresql"] = bench_postgres(Path(tmp))
    results["machine"]["load_average_after"] = machine_load()["load_average"]
    rows = [
        [
            engine,
            f"{results[engine]['rows']:,}",
            results[engine]["statements_per_dataset"],
            results[engine]["full_run_seconds"],
            results[engine]["sum_of_floors_seconds"],
            f"{results[engine]['ratio_to_floors']:.2f}x",
        ]
        for engine in ("duckdb", "postgresql")
    ]
    print_table(
        f"Full run, one 12-column dataset, median of {REPEAT} (load average {results['machine']['load_average']})",
        ["engine", "rows", "table reads", "full run s", "sum of floors s", "run / floors"],
        rows,
    )
    for engine in ("duckdb", "postgresql"):
        count = results[engine]["statements_per_dataset"]
        print(
            f"{engine}: {count} reads per dataset (target <= {TARGET_STATEMENTS}): {'met' if count <= TARGET_STATEMENTS else 'MISSED'}"
        )
    path = write_results("run", results)
    print(f"wrote {path} in {time.perf_counter() - started:.0f}s")
    return (
        0
        if all(results[e]["statements_per_dataset"] <= TARGET_STATEMENTS for e in ("duckdb", "postgresql"))
        else 1
    )


if __name__ == "__main__":
    sys.exit(main())
