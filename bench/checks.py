"""Checks benchmark: one Soda scan of the demo's email_events checks, next to one count(*) over the same table.

The checks are exactly what a run executes for the demo dataset `warehouse.email_events`: the user contract
checks/warehouse/email_events.yml (missing, invalid values and formats, a bounce-rate metric) merged with the
generated checks (duplicate on the primary key, missing on the four required columns, schema against an
accepted snapshot, row_count bounds). Tables have the demo's email_events shape:
- DuckDB: 1M and 10M rows in a temporary database file, scanned through our SQLAlchemy source;
- PostgreSQL: 2M rows in a temporary database on 127.0.0.1:5432.

Per table: queries Soda issued (counted from its DEBUG log in one extra, untimed scan), median seconds of the
scan (`scan_contract`, including Soda's contract parsing), of the same SQL statements run without Soda, of
`SELECT count(*)` and of one "column pass" (`SELECT sum(length(CAST(c AS VARCHAR))), …` over the checked
columns: one read of every value the checks need, none of their logic), and the ratios. DuckDB answers count(*) on a table from metadata, so the column
pass is the fairer floor there. Timed rounds interleave the variants so background load hits them alike.

Writes bench/results/checks.json. Environment: BENCH_CHECKS_REPEAT (timed rounds, default 3),
BENCH_CHECKS_DUCKDB_ROWS (comma-separated, default 1000000,10000000), BENCH_CHECKS_PG_ROWS (default 2000000).
"""

from __future__ import annotations

import logging
import os
import shutil
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

os.environ.setdefault("SODA_CORE_TELEMETRY_ENABLED", "false")
os.environ["SODA_DEBUG_PRINT_SQL_MAX_CHARS"] = (
    "1000000"  # log whole statements: the "soda sql" variant reruns them
)
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import duckdb  # noqa: E402
import psycopg  # noqa: E402
import sqlalchemy as sa  # noqa: E402
import yaml  # noqa: E402

from bench.common import print_table, write_results  # noqa: E402
from datahealth.checks.baselines import HistoryBaselines, RowCountBounds  # noqa: E402
from datahealth.checks.contracts import build_contract  # noqa: E402
from datahealth.checks.data_sources import soda_target  # noqa: E402
from datahealth.checks.runner import scan_contract  # noqa: E402
from datahealth.checks.soda_env import prepare_soda  # noqa: E402
from datahealth.config import load_project  # noqa: E402
from datahealth.config.models import Project  # noqa: E402
from datahealth.core.results import TableMeta  # noqa: E402
from datahealth.sources import SqlSource, open_source  # noqa: E402

REPEAT = int(os.environ.get("BENCH_CHECKS_REPEAT", "3"))
DUCKDB_ROWS = [int(n) for n in os.environ.get("BENCH_CHECKS_DUCKDB_ROWS", "1000000,10000000").split(",")]
PG_ROWS = int(os.environ.get("BENCH_CHECKS_PG_ROWS", "2000000"))
PG_HOST, PG_PORT, PG_USER = "127.0.0.1", 5432, "postgres"
AS_OF = datetime(2026, 11, 1, 7, 30, tzinfo=UTC)
EVENT_TYPES = ["sent"] * 16 + ["delivered"] * 15 + ["opened"] * 6 + ["clicked", "bounced", "unsubscribed"]

DUCKDB_TABLE = """
CREATE TABLE {table} AS
SELECT
  range::BIGINT AS event_id,
  (hash(range, 1) % 50000)::BIGINT AS customer_id,
  'cmp_202610' || lpad((hash(range, 2) % 28 + 1)::VARCHAR, 2, '0') || '_newsletter' AS campaign_id,
  $types[(hash(range, 3) % 40 + 1)::INTEGER] AS event_type,
  TIMESTAMP '2026-10-01' + to_seconds((hash(range, 4) % 2592000)::BIGINT) AS event_ts,
  CASE WHEN hash(range, 5) % 2 = 0 THEN 'A' ELSE 'B' END AS subject_variant,
  ['mobile', 'desktop', 'tablet'][(hash(range, 6) % 3 + 1)::INTEGER] AS device
FROM range($rows)
"""

POSTGRES_TABLE = """
CREATE TABLE email_events AS
SELECT
  i::bigint AS event_id,
  ((i * 7919) %% 50000)::bigint AS customer_id,
  'cmp_202610' || lpad(((i * 31) %% 28 + 1)::text, 2, '0') || '_newsletter' AS campaign_id,
  (%(types)s::text[])[(i * 13) %% 40 + 1] AS event_type,
  TIMESTAMP '2026-10-01' + ((i * 7) %% 2592000) * INTERVAL '1 second' AS event_ts,
  CASE WHEN i %% 2 = 0 THEN 'A' ELSE 'B' END AS subject_variant,
  (ARRAY['mobile', 'desktop', 'tablet'])[(i * 5) %% 3 + 1] AS device
FROM generate_series(1::bigint, %(rows)s::bigint) AS i
"""


class SqlCounter(logging.Handler):
    """Soda logs every statement at DEBUG on the `soda` logger; counting them counts the queries."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.statements: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        message = record.getMessage()
        if message.startswith(("SQL query fetch", "SQL query iterate", "SQL update")):
            self.statements.append(message)


def write_project(workdir: Path, source_url: str, tables: list[str]) -> Project:
    """A project whose datasets are configured like the demo's warehouse.email_events, with its contract."""
    demo = yaml.safe_load((ROOT / "sla_config" / "datasets.yaml").read_text())["datasets"][
        "warehouse.email_events"
    ]
    keys = ("primary_key", "required_columns", "timestamp_column")
    datasets = {f"bench.{t}": {"table": t, **{k: demo[k] for k in keys}} for t in tables}
    (workdir / "sla_config").mkdir(parents=True, exist_ok=True)
    (workdir / "sla_config" / "project.yaml").write_text(
        yaml.safe_dump({"history": {"url": f"sqlite:///{workdir / 'history.db'}"}})
    )
    (workdir / "sla_config" / "sources.yaml").write_text(
        yaml.safe_dump({"sources": {"bench": {"kind": "sql", "url": source_url}}})
    )
    (workdir / "sla_config" / "datasets.yaml").write_text(yaml.safe_dump({"datasets": datasets}))
    (workdir / "checks" / "bench").mkdir(parents=True, exist_ok=True)
    for table in tables:
        shutil.copyfile(
            ROOT / "checks" / "warehouse" / "email_events.yml", workdir / "checks" / "bench" / f"{table}.yml"
        )
    return load_project(workdir)


def bench_table(project: Project, source: SqlSource, table: str) -> dict[str, Any]:
    dataset = project.dataset(f"bench.{table}")
    meta = source.describe([dataset])[dataset.name]
    assert isinstance(meta, TableMeta), meta
    with source.engine.connect() as conn:
        rows = int(
            conn.execute(sa.select(sa.func.count()).select_from(source.table_clause(dataset))).scalar_one()
        )
    baselines = HistoryBaselines(
        meta.columns, RowCountBounds(rows - rows // 10, rows + rows // 10, 7, rows, AS_OF, 0, 0)
    )
    contract = build_contract(project, dataset, soda_target(project, dataset), baselines)

    def scan() -> Any:
        outcome = scan_contract(contract, source, dataset, AS_OF)
        assert not outcome.errors, outcome.errors
        return outcome

    def count_star() -> None:
        with source.engine.connect() as conn:
            conn.execute(sa.select(sa.func.count()).select_from(source.table_clause(dataset))).scalar_one()

    checked = sorted({c.column for c in contract.checks if c.column})

    def column_pass() -> (
        None
    ):  # reads every checked value once (count(col) may come from metadata; this cannot)
        reads = [sa.func.sum(sa.func.length(sa.cast(sa.column(name), sa.String))) for name in checked]
        with source.engine.connect() as conn:
            conn.execute(sa.select(*reads).select_from(source.table_clause(dataset))).one()

    counter = SqlCounter()
    soda_logger = logging.getLogger("soda")
    level = soda_logger.level
    soda_logger.addHandler(counter)
    soda_logger.setLevel(logging.DEBUG)
    try:
        outcome = scan()
    finally:
        soda_logger.removeHandler(counter)
        soda_logger.setLevel(level)
    statements = [m.split("\n", 1)[1] for m in counter.statements]

    def soda_sql() -> None:  # Soda's statements without Soda: the scan minus its parsing and bookkeeping
        with source.engine.connect() as conn:
            for statement in statements:
                conn.exec_driver_sql(statement).fetchall()

    count_star()
    variants = {"checks": scan, "sql": soda_sql, "count": count_star, "columns": column_pass}
    medians = interleaved_medians(variants, REPEAT)
    failed = sorted(r.check.relative_path for r in outcome.results if r.outcome.name != "PASSED")
    return {
        "rows": rows,
        "checks": len(outcome.results),
        "checks_not_passed": failed,
        "queries": len(counter.statements),
        "checks_seconds": round(medians["checks"], 4),
        "soda_sql_seconds": round(medians["sql"], 4),
        "count_star_seconds": round(medians["count"], 4),
        "column_pass_seconds": round(medians["columns"], 4),
        "ratio_to_count_star": round(medians["checks"] / medians["count"], 1) if medians["count"] else None,
        "ratio_to_column_pass": round(medians["checks"] / medians["columns"], 1)
        if medians["columns"]
        else None,
    }


def interleaved_medians(variants: dict[str, Callable[[], Any]], repeat: int) -> dict[str, float]:
    samples: dict[str, list[float]] = {name: [] for name in variants}
    for _ in range(repeat):
        for name, fn in variants.items():
            started = time.perf_counter()
            fn()
            samples[name].append(time.perf_counter() - started)
    return {name: statistics.median(values) for name, values in samples.items()}


def bench_duckdb(workdir: Path) -> dict[str, dict[str, Any]]:
    workdir.mkdir(parents=True, exist_ok=True)
    tables = [f"email_events_{_label(n)}" for n in DUCKDB_ROWS]
    con = duckdb.connect(str(workdir / "bench.duckdb"))
    for table, rows in zip(tables, DUCKDB_ROWS, strict=True):
        con.execute(DUCKDB_TABLE.format(table=table), {"rows": rows, "types": EVENT_TYPES})
    con.close()
    project = write_project(workdir, "duckdb:///bench.duckdb", tables)
    source = open_source("bench", project.config.sources["bench"], project.root)
    assert isinstance(source, SqlSource)
    try:
        return {
            f"duckdb {_label(n)}": bench_table(project, source, t)
            for t, n in zip(tables, DUCKDB_ROWS, strict=True)
        }
    finally:
        source.close()


def bench_postgres(workdir: Path) -> dict[str, dict[str, Any]]:
    name = f"dh_bench_checks_{uuid.uuid4().hex[:8]}"
    admin = f"host={PG_HOST} port={PG_PORT} user={PG_USER} dbname=postgres"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        with psycopg.connect(
            f"host={PG_HOST} port={PG_PORT} user={PG_USER} dbname={name}", autocommit=True
        ) as conn:
            conn.execute(POSTGRES_TABLE, {"rows": PG_ROWS, "types": EVENT_TYPES})  # type: ignore[arg-type]
            conn.execute("ANALYZE email_events")
        project = write_project(
            workdir, f"postgresql+psycopg://{PG_USER}@{PG_HOST}:{PG_PORT}/{name}", ["email_events"]
        )
        source = open_source("bench", project.config.sources["bench"], project.root)
        assert isinstance(source, SqlSource)
        try:
            return {f"postgres {_label(PG_ROWS)}": bench_table(project, source, "email_events")}
        finally:
            source.close()
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _label(rows: int) -> str:
    return f"{rows // 1_000_000}m" if rows >= 1_000_000 and rows % 1_000_000 == 0 else str(rows)


def main() -> int:
    prepare_soda()
    results: dict[str, dict[str, Any]] = {}
    with tempfile.TemporaryDirectory(prefix="dh-bench-checks-") as tmp:
        results |= bench_duckdb(Path(tmp) / "duckdb")
        results |= bench_postgres(Path(tmp) / "postgres")
    rows = [
        (
            name,
            f"{r['rows']:,}",
            r["checks"],
            r["queries"],
            r["checks_seconds"],
            r["soda_sql_seconds"],
            r["count_star_seconds"],
            r["ratio_to_count_star"],
            r["column_pass_seconds"],
            r["ratio_to_column_pass"],
        )
        for name, r in results.items()
    ]
    print_table(
        f"Soda scan of the demo email_events checks vs one count(*) (median of {REPEAT})",
        [
            "table",
            "rows",
            "checks",
            "queries",
            "checks s",
            "its SQL s",
            "count(*) s",
            "x count(*)",
            "column pass s",
            "x pass",
        ],
        rows,
    )
    path = write_results("checks", {"repeat": REPEAT, "cpus": os.cpu_count(), "tables": results})
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
