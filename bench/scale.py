"""Scale: a metadata-tier run over 1,000 PostgreSQL tables in 20 schemas.

Target (issue 10): under 60 s on 2 cores, catalog queries batched per schema, at most one query per
table. Builds the tables once in a database `dh_bench_scale` (kept between runs; `--rebuild` drops it),
then times `run_monitor` (no Prefect) and counts every statement sent to the warehouse.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

import psycopg
import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.support.postgres import admin_dsn, sqlalchemy_url  # noqa: E402
from tests.support.projects import write_project  # noqa: E402

from bench.common import print_table, write_results  # noqa: E402
from datahealth.config import load_project  # noqa: E402
from datahealth.core.run import RunOptions
from datahealth.monitor.runner import run_monitor  # noqa: E402

DATABASE = "dh_bench_scale"
SCHEMAS = 20
TABLES_PER_SCHEMA = 50


def build(rebuild: bool) -> None:
    with psycopg.connect(admin_dsn(), autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (DATABASE,)).fetchone()
        if exists and not rebuild:
            return
        conn.execute(f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{DATABASE}"')
    with psycopg.connect(admin_dsn(DATABASE), autocommit=True) as conn:
        for s in range(SCHEMAS):
            conn.execute(f"CREATE SCHEMA s{s:02d}")
            for t in range(TABLES_PER_SCHEMA):
                conn.execute(
                    f"CREATE TABLE s{s:02d}.t{t:03d} AS SELECT g AS id, 'row ' || g AS label, "
                    f"now() - (g || ' minutes')::interval AS updated_at FROM generate_series(1, {100 + t}) g"
                )
        conn.execute("ANALYZE")


def main() -> None:
    build(rebuild="--rebuild" in sys.argv)
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
            datasets=datasets,
            tiers={"frequent": {"profile": False, "checks": False}},
        )
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
    print_table(
        "Scale: metadata-tier run, 1,000 PostgreSQL tables in 20 schemas",
        ["measure", "value", "target"],
        [
            ["tables", tables, ""],
            ["wall seconds", round(wall, 2), "< 60"],
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
            "target_wall_seconds": 60,
        },
    )


if __name__ == "__main__":
    main()
