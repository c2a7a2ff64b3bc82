"""Orchestration overhead: one run over 200 small datasets with and without Prefect.

Builds a SQLite warehouse with 200 tiny tables (one source), then times
- `run_monitor` (the same engine steps on a plain thread pool, no Prefect), and
- the `data_health` flow against a Prefect API server (the test harness's, on this machine),
each the median of several runs. Both run the metadata sweep (the `frequent` tier: observe, evaluate,
store; no profile, checks or publishing) so the engine's own work is small and the difference is
Prefect's: task runs, state changes, logs, the flow run itself.
`overhead_ms_per_task` = (flow wall time − plain wall time) / datasets.

The Prefect server shares the machine's 2 cores and keeps ingesting a run's task-run events for a while
after the flow returns; a run started during that backlog measures the backlog too. Each timed run
therefore starts once the server process has gone idle, and the server's CPU per task is reported
separately (`server_cpu_ms_per_task`).

Run: `python bench/flow.py` (part of `make bench`); writes bench/results/flow.json.
"""

from __future__ import annotations

import logging
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")

import psutil  # noqa: E402
from tests.orchestration.projects import AS_OF, sqlite_project  # noqa: E402

from bench.common import print_table, write_results  # noqa: E402

DATASETS = int(os.environ.get("BENCH_FLOW_DATASETS", "200"))
REPEAT = int(os.environ.get("BENCH_FLOW_REPEAT", "5"))
TARGET_MS = 50.0


def _server_processes() -> list[psutil.Process]:
    return psutil.Process().children(recursive=True)


def _cpu_seconds(processes: list[psutil.Process]) -> float:
    total = 0.0
    for process in processes:
        try:
            times = process.cpu_times()
        except psutil.Error:
            continue
        total += times.user + times.system
    return total


def wait_until_idle(processes: list[psutil.Process], limit: float = 120.0) -> float:
    """Poll the server's CPU use until it stays under 10% of a core for two seconds; returns seconds waited."""
    started = time.monotonic()
    quiet = 0
    while time.monotonic() - started < limit and quiet < 2:
        before = _cpu_seconds(processes)
        time.sleep(1.0)
        quiet = quiet + 1 if _cpu_seconds(processes) - before < 0.1 else 0
    return time.monotonic() - started


def timed(fn: Callable[[], Any], servers: list[psutil.Process]) -> tuple[float, float]:
    """(wall seconds, server CPU seconds) of one call, started on an idle server."""
    waited = wait_until_idle(servers)
    cpu = _cpu_seconds(servers)
    started = time.perf_counter()
    fn()
    wall = time.perf_counter() - started
    drained = wait_until_idle(servers)
    print(f"  run {wall:.2f}s (waited {waited:.0f}s for an idle server, {drained:.0f}s to drain)", flush=True)
    return wall, _cpu_seconds(servers) - cpu


def main() -> int:
    from prefect.testing.utilities import prefect_test_harness

    tables = [f"t{i:03d}" for i in range(DATASETS)]
    with tempfile.TemporaryDirectory() as tmp, prefect_test_harness(server_startup_timeout=180):
        logging.getLogger("prefect").setLevel(logging.WARNING)
        from datahealth.config import load_project
        from datahealth.core.run import RunOptions
        from datahealth.monitor.runner import run_monitor
        from datahealth.orchestration.flow import data_health

        servers = _server_processes()
        variants: dict[str, dict[str, Any]] = {}
        for limits in (True, False):
            root = sqlite_project(
                Path(tmp) / f"limits-{limits}",
                tables,
                max_concurrency=4,
                project={"name": "bench", "source_concurrency_limits": limits, "max_workers": 8},
            )
            project = load_project(root)

            def plain(project: Any = project) -> Any:
                return run_monitor(
                    project,
                    as_of=AS_OF,
                    max_workers=8,
                    options=RunOptions(profile=False, checks=False, publish=False),
                )

            def prefect(root: Path = root) -> Any:
                return data_health(project_dir=str(root), tier="frequent", as_of=AS_OF, publish=False)

            print(f"variant limits={limits}: warming up", flush=True)
            prefect()  # warm-up: imports, first flow registration, limits created
            plain()
            flow_runs = [timed(prefect, servers) for _ in range(REPEAT)]
            plain_runs = [timed(plain, servers)[0] for _ in range(REPEAT)]
            flow_wall = statistics.median(w for w, _ in flow_runs)
            plain_wall = statistics.median(plain_runs)
            variants["limits" if limits else "no_limits"] = {
                "flow_wall_seconds": round(flow_wall, 3),
                "plain_wall_seconds": round(plain_wall, 3),
                "overhead_ms_per_task": round((flow_wall - plain_wall) / DATASETS * 1000, 1),
                "server_cpu_ms_per_task": round(
                    statistics.median(c for _, c in flow_runs) / DATASETS * 1000, 1
                ),
                "flow_wall_samples": [round(w, 3) for w, _ in flow_runs],
                "plain_wall_samples": [round(w, 3) for w in plain_runs],
            }
    main_variant = variants["limits"]
    data = {
        "datasets": DATASETS,
        "repeat": REPEAT,
        "cores": os.cpu_count(),
        "task_runner": "threads (8)",
        "source_max_concurrency": 4,
        "overhead_ms_per_task": main_variant["overhead_ms_per_task"],
        "target_ms_per_task": TARGET_MS,
        "meets_target": main_variant["overhead_ms_per_task"] < TARGET_MS,
        "variants": variants,
    }
    rows = [
        (
            name,
            v["plain_wall_seconds"],
            v["flow_wall_seconds"],
            v["overhead_ms_per_task"],
            v["server_cpu_ms_per_task"],
        )
        for name, v in variants.items()
    ]
    print_table(
        f"Prefect overhead, {DATASETS} datasets (median of {REPEAT})",
        ["variant", "plain s", "flow s", "overhead ms/task", "server CPU ms/task"],
        rows,
    )
    print(f"wrote {write_results('flow', data)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
