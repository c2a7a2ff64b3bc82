"""A whole run without Prefect: bad datasets fail alone, the rest is observed, everything is stored once."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from datahealth.config import load_project
from datahealth.core.run import RunOptions
from datahealth.monitor.runner import run_monitor
from datahealth.store import HistoryStore, read
from tests.support.ports import free_port
from tests.support.projects import write_project


@pytest.fixture
def mixed_project(tmp_path: Path) -> Path:
    con = duckdb.connect(str(tmp_path / "wh.duckdb"))
    con.execute(
        "CREATE TABLE orders AS SELECT range AS id, TIMESTAMP '2026-10-10 05:00:00' AS updated_at FROM range(50)"
    )
    con.close()
    (tmp_path / "lake" / "bad").mkdir(parents=True)
    (tmp_path / "lake" / "bad" / "part-0.parquet").write_bytes(b"PAR1 this is not really parquet")
    return write_project(
        tmp_path,
        sources={
            "wh": {"kind": "sql", "url": "duckdb:///wh.duckdb"},
            "lake": {"kind": "lake", "root": "lake"},
            "remote": {
                "kind": "sql",
                "url": f"postgresql+psycopg://dh:remote-secret-pw@127.0.0.1:{free_port()}/x",
            },
        },
        datasets={
            "wh.orders": {"timestamp_column": "updated_at", "sla": {"warn_after": "2h", "error_after": "4h"}},
            "wh.missing_table": {},
            "lake.bad": {"path": "bad/*.parquet"},
            "remote.orders": {},
        },
    )


def test_failures_stay_with_their_dataset_and_the_run_finishes(mixed_project: Path) -> None:
    project = load_project(mixed_project)
    summary = run_monitor(
        project, as_of="2026-10-10T06:00:00Z", options=RunOptions(profile=False, checks=False, publish=False)
    )
    by_name = {d.dataset: d for d in summary.datasets}
    assert by_name["wh.orders"].status == "ok" and by_name["wh.orders"].rows == 50
    assert by_name["wh.orders"].freshness_lag_seconds == 3600.0
    assert by_name["wh.missing_table"].error_kind == "missing"
    assert by_name["lake.bad"].error_kind == "corrupt"
    assert by_name["remote.orders"].error_kind == "unreachable"
    assert {d.dataset for d in summary.errored} == {"wh.missing_table", "lake.bad", "remote.orders"}
    assert summary.counts["unknown"] == 3 and summary.counts["ok"] == 1
    assert "remote-secret-pw" not in str(summary.to_dict())

    store = HistoryStore.open(project.config.history.url, project.root)
    stored = read.observation_history(store, [d.dataset for d in summary.datasets])
    assert all(len(observations) == 1 for observations in stored.values())
    assert "remote-secret-pw" not in (stored["remote.orders"][0].error or "")
    assert read.latest_run(store).datasets_failed == 3  # type: ignore[union-attr]
    store.close()


def test_sla_breach_makes_the_dataset_fail(mixed_project: Path) -> None:
    project = load_project(mixed_project)
    summary = run_monitor(
        project,
        ["wh.orders"],
        as_of="2026-10-10T10:00:00Z",
        options=RunOptions(profile=False, checks=False, publish=False),
    )
    [orders] = summary.datasets
    assert orders.status == "fail" and orders.freshness_lag_seconds == 5 * 3600
