"""`datahealth demo` ends its timeline when it runs, so its report, metrics and alert rules agree.

A short demo (two days, before any injected fault) on a copy of the repository's demo project must be
healthy on every day, including the first one (a first load whose newest customer was a day older than
the rest once raised a false stale alert), and the metrics textfile it leaves must not trip the alert
rules in deploy/prometheus/rules.yml at the moment the demo ends: no freshness SLA breached by the real
clock, and no "monitor stale" two minutes later because of a tier (realtime, every minute) that the demo
never runs.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from datahealth.config import load_project
from datahealth.core.results import Status
from datahealth.publish.prometheus.metrics import STATUS_VALUE
from datahealth.store import HistoryStore, read
from tests.support.prometheus import parse_samples

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[2]


def test_a_demo_ending_now_is_healthy_every_day_and_its_metrics_trip_no_alert_rule(tmp_path: Path) -> None:
    for folder in ("sla_config", "checks"):
        shutil.copytree(REPO / folder, tmp_path / folder)
    command = [str(Path(sys.executable).with_name("datahealth")), "demo", "--no-prefect", "--days", "2"]
    env = {**os.environ, "COLUMNS": "200", "DATAHEALTH_SMTP_HOST": "", "DATAHEALTH_PUSHGATEWAY_URL": ""}
    env.pop("DATAHEALTH_DEMO_ENGINE", None)
    done = subprocess.run(
        [*command, "-p", str(tmp_path)], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600
    )
    ended = datetime.now(UTC)
    assert done.returncode == 0, done.stderr[-3000:]

    project = load_project(tmp_path)
    store = HistoryStore.open(project.config.history.url, project.root)
    try:
        runs = read.runs_between(store, datetime(2000, 1, 1, tzinfo=UTC), ended)
        incidents = read.open_incidents(store)
    finally:
        store.close()
    assert len(runs) == 2
    assert (ended - runs[-1].as_of).total_seconds() < 600  # the last run is the demo's own moment
    for run in runs:
        assert {status for status, count in run.summary["counts"].items() if count} == {Status.OK.value}
    assert incidents == []

    samples = parse_samples((tmp_path / "reports" / "datahealth.prom").read_text())
    now = ended.timestamp()
    last_updated = {
        dict(labels)["dataset"]: value
        for (name, labels), value in samples.items()
        if name == "datahealth_dataset_last_updated_timestamp_seconds"
    }
    for (name, labels), value in samples.items():
        if (
            name == "datahealth_freshness_sla_seconds"
        ):  # DatahealthFreshnessSlaBreached: time() - updated > sla
            dataset = dict(labels)["dataset"]
            assert now - last_updated[dataset] < value, (dataset, dict(labels)["severity"])
        if name == "datahealth_dataset_status":
            assert value == STATUS_VALUE[Status.OK], dict(labels)["dataset"]
    # DatahealthMonitorStale (for: 5m) must not fire minutes after the demo: the demo runs no tier, so the
    # every-minute realtime tier does not set the staleness bound
    [stale_after] = [v for (name, _), v in samples.items() if name == "datahealth_run_stale_after_seconds"]
    [last_success] = [
        v for (name, _), v in samples.items() if name == "datahealth_run_last_success_timestamp_seconds"
    ]
    assert now + 15 * 60 - last_success < stale_after
