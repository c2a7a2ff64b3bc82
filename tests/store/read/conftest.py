"""A history store (SQLite, and the real PostgreSQL: `history_url`) in a small project configuring `wh.orders`."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from datahealth.config import Project, load_project
from datahealth.core.results import (
    CheckOutcome,
    CheckResult,
    ColumnInfo,
    ColumnProfile,
    DatasetResult,
    Observation,
    Profile,
    Status,
)
from datahealth.store import HistoryStore
from tests.support.projects import write_project

T0 = datetime(2026, 10, 1, 7, tzinfo=UTC)
DAY = timedelta(days=1)
DATASET = "wh.orders"
COLUMNS = (ColumnInfo("id", "integer", False), ColumnInfo("email", "varchar", True))


@pytest.fixture
def project(tmp_path: Path, history_url: str) -> Project:
    write_project(
        tmp_path,
        {"wh": {"kind": "sql", "url": f"sqlite:///{tmp_path / 'wh.db'}"}},
        {DATASET: {"sla": {"error_after": "2d"}}},
        history={"url": history_url},
        publish={"prometheus": {"textfile": None, "column_metrics": True}},
    )
    return load_project(tmp_path)


@pytest.fixture
def store(project: Project) -> Iterator[HistoryStore]:
    opened = HistoryStore.open(project.config.history.url, project.root)
    try:
        yield opened
    finally:
        opened.close()


def record_run(
    store: HistoryStore,
    as_of: datetime,
    rows: int,
    outcome: CheckOutcome = CheckOutcome.PASS,
    null_ratio: float = 0.0,
    *,
    finish: bool = True,
) -> str:
    """One run that observed, profiled and checked `wh.orders` as of `as_of`; returns its id."""
    run_id = store.start_run(as_of, selection=[DATASET], datasets_total=1)
    observation = Observation(
        DATASET, "wh", as_of, as_of, row_count=rows, last_updated=as_of - timedelta(hours=1), columns=COLUMNS
    )
    profile = Profile(
        DATASET, (ColumnProfile("email", "varchar", {"null_ratio": null_ratio}),), row_count=rows
    )
    check = CheckResult(
        DATASET, "email.missing", "missing", outcome, column="email", observed_value=float(rows)
    )
    status = Status.OK if outcome == CheckOutcome.PASS else Status.FAIL
    store.record_dataset_result(run_id, DatasetResult(observation, profile, [check]), status)
    if finish:
        store.finish_run(run_id, status="completed", datasets_failed=0, duration_seconds=1.0)
    return run_id
