"""Scale: a metadata-tier run over 10,000 PostgreSQL tables in 50 schemas.

Targets: under 60 s on 2 cores and a peak RSS under 400 MB, catalog queries batched per schema, at most
one query per table. Builds the tables once in a database `dh_bench_scale` (kept between runs and
rebuilt when its table count differs; `--rebuild` forces it), then times `run_monitor` (no Prefect),
counts every statement sent to the warehouse and reads this process's peak RSS.
Environment: BENCH_SCALE_SCHEMAS (default 50), BENCH_SCALE_TABLES_PER_SCHEMA (default 200).
"""

from __future__ import annotations

import os
import resource
import sys
import tempfile
import time
from pathlib import Path

import psycopg
import sqlalchemy as sa
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.support.postgres import admin_dsn, sqlalchemy_url  # noqa: E402
from tests.support.projects import write_project  # noqa: E402

from bench.common import machine_load, print_table, write_results  # noqa: E402
from datahealth.config import load_project  # noqa: E402
from datahealth.core.run import RunOptions  # noqa: E402
from datahealth.monitor.runner import run_monitor  # noqa: E402

DATABASE = "dh_bench_scale"
SCHEMAS = int(os.environ.get("BENCH_SCALE_SCHEMAS", "50"))
TABLES_PER_SCHEMA = int(os.environ.get("BENCH_SCALE_TABLES_PER_SCHEMA", "200"))


def build(rebuild: bool) -> None:
    with psycopg.connect(admin_dsn(), autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (DATABASE,)).fetchone()
    if exists and not rebuild and _table_count() == SCHEMAS * TABLES_PER_SCHEMA:
        return
    started = time.perf_counter()
    with psycopg.connect(admin_dsn(), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{DATABASE}"')
    with psycopg.connect(admin_dsn(DATABASE)) as conn:
        for s in range(SCHEMAS):  # one transaction per schema: 10,000 commits would dominate the build
            conn.execute(f"CREATE SCHEMA s{s:02d}")
            for t in range(TABLES_PER_SCHEMA):
                conn.execute(
                    f"CREATE TABLE s{s:02d}.t{t:03d} AS SELECT g AS id, 'row ' || g AS label, "
                    f"now() - (g || ' minutes')::interval AS updated_at FROM generate_series(1, {100 + t % 50}) g"
                )
            conn.commit()
    with psycopg.connect(admin_dsn(DATABASE), autocommit=True) as conn:
        conn.execute("ANALYZE")
    print(f"built {SCHEMAS * TABLES_PER_SCHEMA:,} tables in {time.perf_counter() - started:.0f}s", flush=True)


def _table_count() -> int:
    with psycopg.connect(admin_dsn(DATABASE), autocommit=True) as conn:
        row = conn.execute(
            "SELECT count(*) FROM pg_tables WHERE schemaname ~ '^s[0-9]+$' AND tablename ~ '^t[0-9]+$'"
        ).fetchone()
    return int(row[0]) if row else 0


TARGET_WALL_SECONDS = 60
TARGET_PEAK_RSS_MB = 400


def main() -> None:
    build(rebuild="--rebuild" in sys.argv)
    load_before = machine_load()
    statements: list[str] = []

    def count(conn: sa.Connection, cursor: object, statement: str, *args: object) -> None:
        if conn.engine.url.database == DATABASE:
            statements.append(statement)

    sa.event.listen(sa.engine.Engine, "before_cursor_execute", count)
    with tempfile.TemporaryDirectory() as tmp:
        datasets = {
            f"wh.s{s:02d}_t{t:03d}": {
                "table": f"s{s:02d}.t{t:03d}",
                "timestamp_column": "updated_at",
                "tier": "frequent",
                "sla": {"error_after": "1d"},
            }
            for s in range(SCHEMAS)
            for t in range(TABLES_PER_SCHEMA)
        }
        root = write_project(
            Path(tmp),
            sources={"wh": {"kind": "sql", "url": sqlalchemy_url(DATABASE), "max_concurrency": 8}},
            datasets={},
            tiers={"frequent": {"profile": False, "checks": False}},
            project={"default_tier": "frequent"},
        )
        for s in range(
            SCHEMAS
        ):  # one file per schema: a single 10,000-dataset file is over the 1 MB file limit
            part = {name: spec for name, spec in datasets.items() if name.startswith(f"wh.s{s:02d}_")}
            (root / "sla_config" / f"datasets_s{s:02d}.yaml").write_text(yaml.safe_dump({"datasets": part}))
        project = load_project(root)
        started = time.perf_counter()
        summary = run_monitor(
            project, tier="frequent", options=RunOptions(profile=False, checks=False, publish=False)
        )
        wall = time.perf_counter() - started
    catalog = sum(1 for s in statements if "pg_catalog" in s)
    data = sum(1 for s in statements if "count(" in s.lower())
    tables = SCHEMAS * TABLES_PER_SCHEMA
    ok = summary.counts.get("ok", 0)
    peak_rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux reports KiB
    print_table(
        f"Scale: metadata-tier run, {tables:,} PostgreSQL tables in {SCHEMAS} schemas",
        ["measure", "value", "target"],
        [
            ["tables", tables, ""],
            ["wall seconds", round(wall, 2), f"<= {TARGET_WALL_SECONDS}"],
            ["peak RSS MB", round(peak_rss_mb, 1), f"<= {TARGET_PEAK_RSS_MB}"],
            ["warehouse queries", len(statements), f"<= {tables + SCHEMAS} + pings"],
            ["catalog queries", catalog, f"{SCHEMAS} (one per schema)"],
            ["data queries", data, f"<= {tables}"],
            ["datasets ok", ok, tables],
        ],
    )
    write_results(
        "scale",
        {
            "tables": tables,
            "wall_seconds": round(wall, 3),
            "queries": len(statements),
            "catalog_queries": catalog,
            "data_queries": data,
            "datasets_ok": ok,
            "peak_rss_mb": round(peak_rss_mb, 1),
            "schemas": SCHEMAS,
            "target_wall_seconds": TARGET_WALL_SECONDS,
            "target_peak_rss_mb": TARGET_PEAK_RSS_MB,
            "machine": {**load_before, "load_average_after": machine_load()["load_average"]},
        },
    )
    met = wall <= TARGET_WALL_SECONDS and peak_rss_mb <= TARGET_PEAK_RSS_MB and ok == tables
    print(f"scale: {'met' if met else 'MISSED'} (load average before {load_before['load_average']})")


if __name__ == "__main__":
    main()
