"""Detection benchmark: 60 simulated days of the demo platform with seeded faults, monitored every day.

Does the monitor find what went wrong, on the first run after it lands, without crying wolf? The demo
platform (src/datahealth/demo/platform.py) loads one daily batch per simulated day; its own four faults
are switched off and this script injects its own schedule through DuckDB and the lake files instead: stale
days, volume drops and spikes, null spikes, duplicates, dropped columns, type changes, and a weekend
without CRM exports that the dataset's `expected_by` schedule says is fine. The day after a fault the
"operator" repairs it (deletes duplicates, restores a column, accepts a drifted lake schema), so every
episode can end with a resolved incident.

The full pipeline runs every day (observe, profile, Soda checks, evaluate, incidents; no publishing),
against a project like the demo's sla_config.

- recall: faults with an incident opened (or changed) of a fitting kind on that dataset within 3 runs;
- mean_runs_to_detect: over detected faults, 1 = found on the first run after the fault landed;
- false_incidents_per_30_clean_days: incidents opened on dataset-days outside every fault's episode
  (fault day and repair day), per 30 such days. The expected weekend gap counts as clean.

Usage: python bench/detection.py [--days 60] [--scale 0.2] [--seed 7]
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, timedelta
from pathlib import Path
from typing import Any

import duckdb
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import print_table, write_results  # noqa: E402
from datahealth.config import load_project  # noqa: E402
from datahealth.core.results import utc_now  # noqa: E402
from datahealth.core.run import RunOptions
from datahealth.demo import platform as demo  # noqa: E402
from datahealth.monitor.runner import run_monitor  # noqa: E402
from datahealth.store import (
    HistoryStore,  # noqa: E402
    read,  # noqa: E402
)
from datahealth.store.incidents import accept_latest_schema  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
MONITOR_DELAY = timedelta(hours=2)  # as in `datahealth demo`: each day is monitored 2h after its batch lands
DETECT_WITHIN = 3  # runs
# One worker per core: eight threads of GIL-bound profiling and Soda parsing on a 2-core machine spent
# most of each simulated day switching between each other (26 min for 60 days, 5 min with two workers).
WORKERS = min(2, os.cpu_count() or 1)
INCIDENT_FIELDS = ("dataset", "kind", "subject", "severity", "title")
ID_COLUMN = {
    "email_events": "event_id",
    "purchases": "purchase_id",
    "customers": "customer_id",
    "products": "product_id",
}
FINDS = {  # incident kinds that count as finding each fault
    "stale_day": {"freshness", "anomaly"},
    "volume_drop": {"anomaly", "freshness"},
    "volume_spike": {"anomaly"},
    "null_spike": {"anomaly", "check"},
    "duplicates": {"check", "anomaly"},
    "dropped_column": {"schema_change"},
    "type_change": {"schema_change"},
    "expected_gap": set(),
}


@dataclass(frozen=True)
class Fault:
    day: int
    dataset: str
    kind: str
    column: str | None = None

    @property
    def episode(self) -> set[int]:
        """Dataset-days this fault makes unclean: the day it lands and the repair day after."""
        return set() if self.kind == "expected_gap" else {self.day, self.day + 1}


FAULTS: tuple[Fault, ...] = (
    Fault(15, "warehouse.email_events", "stale_day"),
    Fault(17, "lake.clickstream", "volume_drop"),
    Fault(18, "warehouse.purchases", "volume_drop"),
    Fault(20, "warehouse.customers", "duplicates"),
    Fault(21, "warehouse.email_events", "null_spike", "device"),
    Fault(22, "lake.crm_exports", "stale_day"),
    Fault(25, "warehouse.purchases", "type_change", "quantity"),
    Fault(26, "lake.clickstream", "type_change", "duration_ms"),
    Fault(28, "warehouse.email_events", "volume_drop"),
    Fault(29, "warehouse.products", "volume_spike"),
    Fault(30, "lake.crm_exports", "expected_gap"),
    Fault(31, "lake.crm_exports", "expected_gap"),
    Fault(33, "warehouse.purchases", "stale_day"),
    Fault(34, "lake.clickstream", "stale_day"),
    Fault(35, "warehouse.email_events", "dropped_column", "device"),
    Fault(38, "warehouse.customers", "duplicates"),
    Fault(40, "lake.crm_exports", "volume_drop"),
    Fault(41, "warehouse.purchases", "null_spike", "currency"),
    Fault(42, "lake.clickstream", "null_spike", "referrer"),
    Fault(44, "warehouse.email_events", "volume_spike"),
    Fault(46, "warehouse.customers", "stale_day"),
    Fault(49, "warehouse.purchases", "dropped_column", "attributed_campaign_id"),
    Fault(50, "lake.clickstream", "volume_spike"),
    Fault(52, "warehouse.email_events", "duplicates"),
    Fault(56, "warehouse.purchases", "volume_spike"),
)


class FaultInjector:
    """Applies a fault after a day's batch lands and repairs it before the next batch (DuckDB, lake files)."""

    def __init__(self, platform: demo.DemoPlatform, store: HistoryStore) -> None:
        self.platform = platform
        self.store = store
        self.before: dict[str, int] = {}
        self.repairs: list[Callable[[], None]] = []

    def remember_ids(self) -> None:
        """The last id of each warehouse table before a day's batch: that day's rows are the ones above it."""
        with duckdb.connect(str(self.platform.warehouse_path)) as con:
            for table, column in ID_COLUMN.items():
                value = con.execute(f"SELECT coalesce(max({column}), 0) FROM {table}").fetchone()  # noqa: S608
                self.before[table] = int(value[0]) if value else 0

    def repair(self) -> None:
        for fix in self.repairs:
            fix()
        self.repairs.clear()

    def inject(self, fault: Fault, day: int) -> None:
        source, name = fault.dataset.split(".", 1)
        getattr(self, f"_{source}_{fault.kind}")(name, fault, day)

    # warehouse ------------------------------------------------------------------------------

    def _sql(self, *statements: str) -> None:
        with duckdb.connect(str(self.platform.warehouse_path)) as con:
            for statement in statements:
                con.execute(statement)

    def _day_rows(self, table: str) -> str:
        return f"{ID_COLUMN[table]} > {self.before[table]}"

    def _warehouse_stale_day(self, table: str, fault: Fault, day: int) -> None:
        self._sql(f"DELETE FROM {table} WHERE {self._day_rows(table)}")  # noqa: S608

    def _warehouse_volume_drop(self, table: str, fault: Fault, day: int) -> None:
        column = ID_COLUMN[table]
        self._sql(f"DELETE FROM {table} WHERE {self._day_rows(table)} AND hash({column}) % 10 < 7")  # noqa: S608

    def _warehouse_volume_spike(self, table: str, fault: Fault, day: int) -> None:
        column = ID_COLUMN[table]
        if table == "products":
            self._sql(
                "INSERT INTO products SELECT * REPLACE (product_id + 100000 AS product_id) FROM products "
                "WHERE product_id <= 40"
            )
            self.repairs.append(lambda: self._sql("DELETE FROM products WHERE product_id > 100000"))
            return
        copies = " UNION ALL ".join(
            f"SELECT * REPLACE ({column} + {k} * 1000000000 AS {column}) FROM {table} "  # noqa: S608
            f"WHERE {self._day_rows(table)}"
            for k in (1, 2)
        )
        self._sql(f"INSERT INTO {table} {copies}")  # noqa: S608

    def _warehouse_null_spike(self, table: str, fault: Fault, day: int) -> None:
        column = ID_COLUMN[table]
        self._sql(
            f"UPDATE {table} SET {fault.column} = NULL WHERE {self._day_rows(table)} "  # noqa: S608
            f"AND hash({column}) % 5 = 0"
        )

    def _warehouse_duplicates(self, table: str, fault: Fault, day: int) -> None:
        column = ID_COLUMN[table]
        self._sql(
            f"INSERT INTO {table} SELECT * FROM {table} WHERE {column} IN "  # noqa: S608
            f"(SELECT {column} FROM {table} ORDER BY hash({column} + {day}) LIMIT 25)"
        )
        self.repairs.append(
            lambda: self._sql(
                f"DELETE FROM {table} WHERE rowid IN (SELECT rowid FROM (SELECT rowid, row_number() OVER "  # noqa: S608
                f"(PARTITION BY {column} ORDER BY rowid) AS n FROM {table}) WHERE n > 1)"
            )
        )

    def _warehouse_dropped_column(self, table: str, fault: Fault, day: int) -> None:
        with duckdb.connect(str(self.platform.warehouse_path)) as con:
            row = con.execute(
                "SELECT data_type FROM information_schema.columns WHERE table_name = ? AND column_name = ?",
                [table, fault.column],
            ).fetchone()
        assert row is not None
        self._sql(f"ALTER TABLE {table} DROP COLUMN {fault.column}")
        self.repairs.append(lambda: self._sql(f"ALTER TABLE {table} ADD COLUMN {fault.column} {row[0]}"))

    def _warehouse_type_change(self, table: str, fault: Fault, day: int) -> None:
        self._sql(f"ALTER TABLE {table} ALTER COLUMN {fault.column} SET DATA TYPE BIGINT")
        self.repairs.append(
            lambda: self._sql(f"ALTER TABLE {table} ALTER COLUMN {fault.column} SET DATA TYPE INTEGER")
        )

    # lake -------------------------------------------------------------------------------------

    def _file(self, name: str, day: int) -> Path:
        return (
            self.platform.clickstream_file(day)
            if name == "clickstream"
            else self.platform.crm_export_file(day)
        )

    def _rewrite(self, name: str, day: int, select: str) -> None:
        """Rewrite a lake file through DuckDB (`select` reads `src`), keeping its landing time."""
        path = self._file(name, day)
        reader = "read_parquet" if path.suffix == ".parquet" else "read_csv"
        options = "(FORMAT parquet)" if path.suffix == ".parquet" else "(FORMAT csv, HEADER true)"
        temporary = path.with_name("rewrite" + path.suffix)
        with duckdb.connect() as con:
            con.execute(f"CREATE TABLE src AS SELECT * FROM {reader}('{path}')")  # noqa: S608
            con.execute(f"COPY ({select}) TO '{temporary}' {options}")
        temporary.replace(path)
        self.platform._stamp(path, day)

    def _lake_stale_day(self, name: str, fault: Fault, day: int) -> None:
        self._file(name, day).unlink()

    _lake_expected_gap = _lake_stale_day  # the same missing file, but the schedule says none was due

    def _lake_volume_drop(self, name: str, fault: Fault, day: int) -> None:
        key = "event_id" if name == "clickstream" else "customer_id"
        self._rewrite(name, day, f"SELECT * FROM src WHERE hash({key}) % 10 >= 7")  # noqa: S608

    def _lake_volume_spike(self, name: str, fault: Fault, day: int) -> None:
        self._rewrite(
            name,
            day,
            "SELECT * FROM src UNION ALL SELECT * REPLACE (event_id || '-b' AS event_id) FROM src "
            "UNION ALL SELECT * REPLACE (event_id || '-c' AS event_id) FROM src",
        )

    def _lake_null_spike(self, name: str, fault: Fault, day: int) -> None:
        column = fault.column
        self._rewrite(
            name,
            day,
            f"SELECT * REPLACE (CASE WHEN hash(event_id) % 5 = 0 THEN NULL "  # noqa: S608
            f"ELSE {column} END AS {column}) FROM src",
        )

    def _lake_type_change(self, name: str, fault: Fault, day: int) -> None:
        """A producer writes duration_ms as text and adds a column; the operator accepts it the next day."""
        self._rewrite(
            name,
            day,
            "SELECT * REPLACE (duration_ms::VARCHAR || 'ms' AS duration_ms), "
            "'control' AS experiment_id FROM src",
        )
        self.repairs.append(lambda: accept_latest_schema(self.store, f"lake.{name}", utc_now()))


@dataclass
class Outcome:
    fault: Fault
    detected_after: int | None = None  # runs after the fault landed, 1 = first run
    via: list[str] = field(default_factory=list)


def project_dir(root: Path) -> Path:
    """The demo's sla_config, with the CRM exports expected on weekdays only (the expected-gap trap)."""
    shutil.copytree(REPO / "sla_config", root / "sla_config")
    datasets_file = root / "sla_config" / "datasets.yaml"
    config = yaml.safe_load(datasets_file.read_text())
    config["datasets"]["lake.crm_exports"]["sla"] = {
        "warn_after": "30h",
        "error_after": "72h",
        "expected_by": {"cron": "0 6 * * 1-5", "timezone": "UTC", "grace": "30m"},
    }
    datasets_file.write_text(yaml.safe_dump(config, sort_keys=False))
    return root


def simulate(days: int, scale: float, seed: int, faults: tuple[Fault, ...]) -> dict[str, Any]:
    demo.DEMO_FAULTS = ()  # this process only: the platform's own four faults are replaced by FAULTS
    with tempfile.TemporaryDirectory(prefix="datahealth-detection-") as tmp:
        root = project_dir(Path(tmp))
        project = load_project(root)
        platform = demo.DemoPlatform(root / "demo", seed=seed, scale=scale)
        platform.reset()
        store = HistoryStore.open(project.config.history.url, project.root)
        injector = FaultInjector(platform, store)
        outcomes = [Outcome(f) for f in faults if f.day < days and f.kind != "expected_gap"]
        opened: list[tuple[int, dict[str, Any]]] = []
        started = time.perf_counter()
        try:
            for day in range(days):
                injector.repair()
                injector.remember_ids()
                platform.append_day(day)
                for fault in faults:
                    if fault.day == day:
                        injector.inject(fault, day)
                as_of = platform.load_time(day).replace(tzinfo=UTC) + MONITOR_DELAY
                summary = run_monitor(
                    project, as_of=as_of, options=RunOptions(publish=False), max_workers=WORKERS
                )
                events = [
                    {"event": event.event, **{k: getattr(incident, k) for k in INCIDENT_FIELDS}}
                    for event, incident in read.run_events(store, summary.run_id)
                    if event.event in ("opened", "changed", "reopened")
                ]
                opened.extend((day, e) for e in events if e["event"] in ("opened", "reopened"))
                for outcome in outcomes:
                    fault = outcome.fault
                    if outcome.detected_after is None and fault.day <= day < fault.day + DETECT_WITHIN:
                        hits = [
                            e
                            for e in events
                            if e["dataset"] == fault.dataset and e["kind"] in FINDS[fault.kind]
                        ]
                        if hits:
                            outcome.detected_after = day - fault.day + 1
                            outcome.via = sorted({f"{e['kind']}:{e['subject']}" for e in hits})
                print(f"day {day:>2} {as_of:%a %Y-%m-%d}: {len(events)} incident events", flush=True)
        finally:
            store.close()
        elapsed = time.perf_counter() - started
    return score(days, faults, outcomes, opened, elapsed, scale, seed)


def score(
    days: int,
    faults: tuple[Fault, ...],
    outcomes: list[Outcome],
    opened: list[tuple[int, dict[str, Any]]],
    elapsed: float,
    scale: float,
    seed: int,
) -> dict[str, Any]:
    unclean = {(f.dataset, d) for f in faults for d in f.episode}
    datasets = list(demo.DATASETS)
    clean_days = sum(1 for name in datasets for d in range(days) if (name, d) not in unclean)
    false = [(day, e) for day, e in opened if (e["dataset"], day) not in unclean]
    gap_days = {(f.dataset, d) for f in faults if f.kind == "expected_gap" for d in (f.day, f.day + 1)}
    detected = [o for o in outcomes if o.detected_after is not None]
    return {
        "recall": round(len(detected) / len(outcomes), 3) if outcomes else None,
        "false_incidents_per_30_clean_days": round(len(false) / clean_days * 30, 3) if clean_days else None,
        "mean_runs_to_detect": round(sum(o.detected_after or 0 for o in detected) / len(detected), 2)
        if detected
        else None,
        "detected_in_first_run": sum(1 for o in detected if o.detected_after == 1),
        "faults": len(outcomes),
        "detected": len(detected),
        "false_incidents": len(false),
        "clean_dataset_days": clean_days,
        "expected_gap_false_incidents": sum(1 for day, e in false if (e["dataset"], day) in gap_days),
        "days": days,
        "scale": scale,
        "seed": seed,
        "seconds": round(elapsed, 1),
        "load_average": [round(v, 2) for v in os.getloadavg()],  # `uptime`'s 1, 5 and 15 minute figures
        "false_incident_kinds": dict(Counter(e["kind"] for _, e in false)),
        "per_fault": [
            {
                "day": o.fault.day,
                "dataset": o.fault.dataset,
                "fault": o.fault.kind,
                "column": o.fault.column,
                "runs_to_detect": o.detected_after,
                "via": o.via,
            }
            for o in outcomes
        ],
        "false_incident_list": [
            {
                "day": day,
                "dataset": e["dataset"],
                "kind": e["kind"],
                "subject": e["subject"],
                "title": e["title"],
            }
            for day, e in false
        ],
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=60)
    parser.add_argument(
        "--scale", type=float, default=0.2, help="volume of the demo's large tables (1.0 = demo)"
    )
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    result = simulate(args.days, args.scale, args.seed, FAULTS)
    print_table(
        "Detection per fault",
        ["fault", "day", "dataset", "runs to detect", "via"],
        [
            (
                r["fault"] + (f" ({r['column']})" if r["column"] else ""),
                r["day"],
                r["dataset"],
                r["runs_to_detect"] or "missed",
                ", ".join(r["via"]),
            )
            for r in result["per_fault"]
        ],
    )
    if result["false_incident_list"]:
        print_table(
            "False incidents (clean dataset-days)",
            ["day", "dataset", "kind", "title"],
            [(f["day"], f["dataset"], f["kind"], f["title"]) for f in result["false_incident_list"]],
        )
    print_table(
        "Detection benchmark",
        ["metric", "value", "target"],
        [
            ("recall", result["recall"], ">= 0.95"),
            (
                "false incidents per 30 clean dataset-days",
                result["false_incidents_per_30_clean_days"],
                "<= 1",
            ),
            ("mean runs to detect", result["mean_runs_to_detect"], "1 (first run)"),
            (
                "faults / detected / in first run",
                f"{result['faults']} / {result['detected']} / {result['detected_in_first_run']}",
                "",
            ),
            (
                "false incidents / clean dataset-days",
                f"{result['false_incidents']} / {result['clean_dataset_days']}",
                "",
            ),
            ("simulated days, seconds", f"{result['days']}, {result['seconds']}", ""),
        ],
    )
    path = write_results("detection", result)
    print(f"results: {path.relative_to(REPO)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
