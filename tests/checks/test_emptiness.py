"""An empty table or profile window is an incident (at the configured level), never a clean profile."""

from __future__ import annotations

from pathlib import Path

import duckdb

from datahealth.config import load_project
from datahealth.core.run import RunOptions
from datahealth.monitor.runner import run_monitor
from datahealth.store import HistoryStore, read
from tests.support.projects import write_project

OPTIONS = RunOptions(publish=False)


def _project(tmp_path: Path, on_empty: str = "warn") -> Path:
    tmp_path.mkdir(parents=True, exist_ok=True)
    with duckdb.connect(str(tmp_path / "wh.duckdb")) as con:
        con.execute("CREATE TABLE events (id INTEGER, ts TIMESTAMP)")
        con.execute("INSERT INTO events SELECT range, TIMESTAMP '2026-10-01 12:00:00' FROM range(20)")
        con.execute("CREATE TABLE empty (id INTEGER)")
    return write_project(
        tmp_path,
        sources={"wh": {"kind": "sql", "url": "duckdb:///wh.duckdb"}},
        datasets={
            "wh.events": {"timestamp_column": "ts", "profile": {"window": "1d"}, "on_empty": on_empty},
            "wh.empty": {"on_empty": on_empty},
        },
    )


def _run(root: Path, as_of: str) -> dict[str, str]:
    project = load_project(root)
    summary = run_monitor(project, as_of=as_of, options=OPTIONS)
    return {d.dataset: d.status for d in summary.datasets}


def test_an_empty_window_and_an_empty_table_open_incidents_and_store_no_profile(tmp_path: Path) -> None:
    root = _project(tmp_path)
    statuses = _run(root, "2026-10-01T13:00Z")  # the window holds the 20 rows
    assert statuses == {"wh.events": "ok", "wh.empty": "warn"}
    statuses = _run(root, "2026-10-05T13:00Z")  # nothing in the last day
    assert statuses == {"wh.events": "warn", "wh.empty": "warn"}
    store = HistoryStore.open(load_project(root).config.history.url, root)
    try:
        incidents = {(i.dataset, i.subject): i for i in read.open_incidents(store)}
        assert ("wh.empty", "not_empty") in incidents and ("wh.events", "not_empty") in incidents
        assert "the table is empty" in incidents[("wh.empty", "not_empty")].message
        assert "no rows in the last 1d" in incidents[("wh.events", "not_empty")].message
        profiles = read.latest_profile(store, "wh.events")
        assert profiles and {p.row_count for p in profiles} == {20}  # the empty window was not stored
    finally:
        store.close()
    with duckdb.connect(str(tmp_path / "wh.duckdb")) as con:
        con.execute("INSERT INTO events SELECT range, TIMESTAMP '2026-10-06 12:00:00' FROM range(5)")
    assert _run(root, "2026-10-06T13:00Z")["wh.events"] == "ok"  # rows are back: resolved


def test_on_empty_error_fails_and_ignore_stays_quiet(tmp_path: Path) -> None:
    assert _run(_project(tmp_path / "e", "error"), "2026-10-05T13:00Z") == {
        "wh.events": "fail",
        "wh.empty": "fail",
    }
    assert _run(_project(tmp_path / "i", "ignore"), "2026-10-05T13:00Z") == {
        "wh.events": "ok",
        "wh.empty": "ok",
    }
