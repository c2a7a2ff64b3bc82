"""A whole run over a lake on S3 (moto): the user sets the root and the standard AWS variables, nothing else.

A late partition is a freshness finding naming it; profiles and checks run over the run's one read of
the files; a second dataset with a corrupt object fails alone.
"""

from __future__ import annotations

import uuid
from pathlib import Path

import duckdb
import pytest

from datahealth.config import load_project
from datahealth.core.run import RunOptions
from datahealth.monitor.runner import run_monitor
from datahealth.store import HistoryStore, read
from tests.support.lakes import ObjectStore
from tests.support.projects import write_checks, write_project


def test_monitoring_s3_events_by_root_and_aws_variables(
    s3_store: ObjectStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for key, value in s3_store.env.items():
        monkeypatch.setenv(key, value)
    local = tmp_path / "upload"
    con = duckdb.connect()
    for day in ("2026-12-01", "2026-12-02"):
        target = local / "events" / f"event_date={day}"
        target.mkdir(parents=True)
        con.execute(
            f"COPY (SELECT range AS id, 'user-' || (range % 4) AS user_id FROM range(40)) "
            f"TO '{target / 'part-0.parquet'}' (FORMAT parquet)"
        )
    con.close()
    (local / "broken").mkdir()
    (local / "broken" / "part-0.parquet").write_bytes(b"PAR1 not parquet at all")
    bucket = f"events-{uuid.uuid4().hex[:8]}"
    s3_store.upload_tree(local, bucket, "raw")
    project_root = write_project(
        tmp_path / "project",
        sources={"lake": {"kind": "lake", "root": f"s3://{bucket}/raw", "hive_partitioning": True}},
        datasets={
            "lake.events": {
                "path": "events/**/*.parquet",
                "partition_column": "event_date",
                "sla": {"expected_by": {"cron": "0 6 * * *", "timezone": "UTC"}},
            },
            "lake.broken": {"path": "broken/*.parquet"},
        },
    )
    write_checks(project_root, "lake.events", "columns:\n  - name: id\n    checks:\n      - missing: {}\n")
    project = load_project(project_root)
    summary = run_monitor(
        project, as_of="2026-12-04T07:00:00Z", options=RunOptions(profile=True, checks=True, publish=False)
    )
    by_name = {d.dataset: d for d in summary.datasets}
    events = by_name["lake.events"]
    assert events.rows == 80 and events.status == "fail"
    store = HistoryStore.open(project.config.history.url, project.root)
    [late] = read.run_findings(store, summary.run_id, kind="freshness")
    profile = read.latest_profile(store, "lake.events")
    checks = read.latest_checks(store, ["lake.events"])
    store.close()
    assert late.dataset == "lake.events" and "event_date=2026-12-03 absent" in late.message
    assert {c.column for c in profile} == {"id", "user_id", "event_date"}
    assert checks["lake.events"] and all(c.outcome == "pass" for c in checks["lake.events"])
    assert by_name["lake.broken"].error_kind == "corrupt"
    assert "testing" not in (by_name["lake.broken"].error or "")
