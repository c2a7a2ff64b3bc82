"""Incident state in the history store (SQLite and real PostgreSQL) and through `run_monitor`."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from datahealth.config import load_project
from datahealth.core.results import (
    CheckOutcome,
    CheckResult,
    ColumnInfo,
    DatasetResult,
    Observation,
    Status,
    utc_now,
)
from datahealth.core.run import RunOptions
from datahealth.monitor.runner import run_monitor
from datahealth.rules.evaluate import evaluate
from datahealth.rules.findings import IncidentEvent, IncidentStatus
from datahealth.store import HistoryStore, read
from datahealth.store.incidents import accept_latest_schema, quiet_incident, record_evaluation
from datahealth.store.queries import load_history
from tests.support.postgres import sqlalchemy_url

T0 = datetime(2026, 10, 1, 7, 30, tzinfo=UTC)
DAY = timedelta(days=1)
COLUMNS = (ColumnInfo("id", "INTEGER", False), ColumnInfo("updated_at", "TIMESTAMP", True))
PG = pytest.param("postgres", marks=[pytest.mark.integration, pytest.mark.postgres])


@pytest.fixture(params=["sqlite", PG])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[HistoryStore]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'history.db'}"
    else:
        url = sqlalchemy_url(request.getfixturevalue("pg_database"))
    opened = HistoryStore.open(url, tmp_path)
    try:
        yield opened
    finally:
        opened.close()


def config():  # type: ignore[no-untyped-def]
    from datahealth.config.models import DatasetConfig

    return DatasetConfig.model_validate(
        {"name": "warehouse.orders", "sla": {"warn_after": "30h", "error_after": "48h"}}
    )


def one_run(store: HistoryStore, at: datetime, *, lag: timedelta, failing: bool, columns=COLUMNS):  # type: ignore[no-untyped-def]
    dataset = config()
    obs = Observation(
        dataset.name,
        "warehouse",
        at,
        at,
        row_count=10,
        last_updated=at - lag,
        last_updated_method="column",
        columns=columns,
    )
    checks = [
        CheckResult(
            dataset.name,
            "id.duplicate",
            "duplicate",
            CheckOutcome.FAIL if failing else CheckOutcome.PASS,
            observed_value=2 if failing else 0,
        )
    ]
    result = DatasetResult(obs, checks=checks)
    run_id = store.start_run(at)
    verdict = evaluate([dataset], [result], load_history(store, [dataset], at), as_of=at)
    store.record_dataset_result(run_id, result, verdict.statuses[dataset.name])
    return run_id, record_evaluation(store, run_id, at, verdict)


def test_lifecycle_is_stored_with_events(store: HistoryStore) -> None:
    run_id, first = one_run(store, T0, lag=timedelta(hours=31), failing=True)
    assert sorted(c.event for c in first.changes) == [IncidentEvent.OPENED, IncidentEvent.OPENED]
    assert all(c.incident.id > 0 for c in first.changes) and first.statuses == {
        "warehouse.orders": Status.FAIL
    }
    assert sorted(r.kind for r in read.run_findings(store, run_id)) == ["check", "freshness"]
    stale_id = next(c.incident.id for c in first.changes if c.incident.kind == "freshness")
    check_id = next(c.incident.id for c in first.changes if c.incident.kind == "check")

    _, second = one_run(store, T0 + timedelta(hours=1), lag=timedelta(hours=32), failing=True)
    assert [c.event for c in second.changes] == [IncidentEvent.ONGOING, IncidentEvent.ONGOING]
    assert read.get_incident(store, stale_id).occurrences == 2  # type: ignore[union-attr]

    acked = quiet_incident(
        store, stale_id, T0 + timedelta(hours=1), duration=None, by="ana", snooze=False, note="on it"
    )
    assert acked.status == IncidentStatus.ACKNOWLEDGED

    _, third = one_run(store, T0 + DAY, lag=timedelta(hours=55), failing=True)
    stale = next(c for c in third.changes if c.incident.id == stale_id)
    assert stale.event == IncidentEvent.CHANGED and stale.previous_severity == "warn"
    assert stale.incident.status == IncidentStatus.ACKNOWLEDGED and stale.incident.is_quiet(T0 + DAY)
    assert read.get_incident(store, stale_id).severity == "error"  # type: ignore[union-attr]

    _, fourth = one_run(store, T0 + 2 * DAY, lag=timedelta(hours=7), failing=False)
    assert sorted((c.incident.id, c.event) for c in fourth.changes) == [
        (stale_id, IncidentEvent.RESOLVED),
        (check_id, IncidentEvent.RESOLVED),
    ]
    assert (
        read.open_incidents(store) == []
        and fourth.open_incidents == []
        and fourth.statuses["warehouse.orders"] == Status.OK
    )
    events = [
        (e.event, e.details.get("reason") or e.details.get("note") or "")
        for e in read.incident_history(store, stale_id)
    ]
    assert events == [
        ("opened", ""),
        ("acknowledged", "on it"),
        ("changed", "severity warn → error"),
        ("resolved", "first clean run"),
    ]
    assert [i.id for i in read.list_incidents(store, status="resolved")] == sorted(
        [stale_id, check_id], reverse=True
    )
    assert read.list_incidents(store, status="all", datasets=["lake.*"]) == []


def test_a_problem_back_soon_reopens_its_incident(store: HistoryStore) -> None:
    _, first = one_run(store, T0, lag=timedelta(hours=1), failing=True)
    [opened] = [c.incident.id for c in first.changes]
    _, clean = one_run(store, T0 + DAY, lag=timedelta(hours=1), failing=False)
    assert [c.event for c in clean.changes] == [IncidentEvent.RESOLVED]
    _, back = one_run(store, T0 + DAY + timedelta(hours=6), lag=timedelta(hours=1), failing=True)
    assert [(c.event, c.incident.id) for c in back.changes] == [(IncidentEvent.REOPENED, opened)]
    stored = read.get_incident(store, opened)
    assert stored is not None and stored.is_open and stored.resolved_at is None
    assert [e.event for e in read.incident_history(store, opened)] == ["opened", "resolved", "reopened"]
    _, later = one_run(store, T0 + 5 * DAY, lag=timedelta(hours=1), failing=False)
    _, much_later = one_run(store, T0 + 9 * DAY, lag=timedelta(hours=1), failing=True)
    assert [c.event for c in much_later.changes] == [IncidentEvent.OPENED]


def test_two_runs_planned_at_once_open_one_incident(store: HistoryStore) -> None:
    dataset = config()
    obs = Observation(
        dataset.name,
        "warehouse",
        T0,
        T0,
        row_count=1,
        last_updated=T0 - 3 * DAY,
        last_updated_method="column",
        columns=COLUMNS,
    )
    verdicts = [
        evaluate([dataset], [DatasetResult(obs)], load_history(store, [dataset], T0), as_of=T0)
        for _ in range(2)
    ]
    for verdict in verdicts:  # both planned before either wrote: both say "opened"
        assert [c.event for c in verdict.changes] == [IncidentEvent.OPENED]
        record_evaluation(store, store.start_run(T0), T0, verdict)
    assert len(read.open_incidents(store)) == 1 and read.open_incidents(store)[0].occurrences == 2


def test_a_resolve_by_another_run_is_not_undone(store: HistoryStore) -> None:
    dataset = config()
    stale = Observation(
        dataset.name,
        "warehouse",
        T0,
        T0,
        row_count=1,
        last_updated=T0 - 3 * DAY,
        last_updated_method="column",
        columns=COLUMNS,
    )
    record_evaluation(
        store,
        store.start_run(T0),
        T0,
        evaluate([dataset], [DatasetResult(stale)], load_history(store, [dataset], T0), as_of=T0),
    )
    later = T0 + timedelta(hours=1)
    still_stale = Observation(
        dataset.name,
        "warehouse",
        later,
        later,
        row_count=1,
        last_updated=T0 - 3 * DAY,
        last_updated_method="column",
        columns=COLUMNS,
    )
    planned = evaluate(
        [dataset], [DatasetResult(still_stale)], load_history(store, [dataset], later), as_of=later
    )
    assert [c.event for c in planned.changes] == [IncidentEvent.ONGOING]
    fresh = Observation(
        dataset.name,
        "warehouse",
        later,
        later,
        row_count=2,
        last_updated=later,
        last_updated_method="column",
        columns=COLUMNS,
    )
    record_evaluation(
        store,
        store.start_run(later),
        later,
        evaluate([dataset], [DatasetResult(fresh)], load_history(store, [dataset], later), as_of=later),
    )
    stored = record_evaluation(store, store.start_run(later), later, planned)  # the slower run writes last
    assert [c.event for c in stored.changes] == [IncidentEvent.OPENED]
    assert len(read.list_incidents(store, status="all")) == 2 and len(read.open_incidents(store)) == 1


def test_schema_baseline_accept(store: HistoryStore) -> None:
    run_id, _ = one_run(store, T0, lag=timedelta(hours=1), failing=False)
    store.record_dataset_result(
        run_id,
        DatasetResult(Observation("warehouse.orders", "warehouse", T0, T0, columns=COLUMNS)),
        Status.OK,
    )
    wider = (*COLUMNS, ColumnInfo("note", "TEXT", True))
    _, changed = one_run(store, T0 + DAY, lag=timedelta(hours=1), failing=False, columns=wider)
    schema = next(c for c in changed.changes if c.incident.kind == "schema_change")
    assert (
        schema.event == IncidentEvent.OPENED
        and schema.incident.details["changes"][0]["kind"] == "column_added"
    )
    _, still = one_run(store, T0 + 2 * DAY, lag=timedelta(hours=1), failing=False, columns=wider)
    assert [c.event for c in still.changes] == [IncidentEvent.ONGOING]
    assert read.accepted_schemas(store, ["warehouse.orders"])["warehouse.orders"] == COLUMNS
    accepted = accept_latest_schema(
        store, "warehouse.orders", utc_now()
    )  # baselines order by acceptance time
    assert accepted is not None and not accepted[1]
    assert read.accepted_schemas(store, ["warehouse.orders"])["warehouse.orders"] == wider
    _, after = one_run(store, T0 + 3 * DAY, lag=timedelta(hours=1), failing=False, columns=wider)
    assert [c.event for c in after.changes] == [IncidentEvent.RESOLVED]
    assert accept_latest_schema(store, "warehouse.orders", utc_now())[1]  # type: ignore[index]
    assert accept_latest_schema(store, "warehouse.nothing", utc_now()) is None


def test_run_monitor_records_incidents_and_counts_statuses(tmp_path: Path, orders_database: Path) -> None:
    """The runner's finish(): evaluate → record → incidents → summary, on a real SQLite warehouse."""
    database = orders_database
    project = load_project(tmp_path)
    options = RunOptions(profile=False, checks=False, publish=False)
    fresh = run_monitor(project, as_of="2026-10-01T07:30:00Z", options=options)
    assert fresh.counts["ok"] == 1 and fresh.health_score == 100.0
    late = run_monitor(project, as_of="2026-10-03T07:30:00Z", options=options)
    assert late.counts["fail"] == 1 and late.datasets[0].status == "fail" and late.health_score == 50.0
    history = HistoryStore.open(project.config.history.url, project.root)
    try:
        [incident] = read.open_incidents(history)
        assert incident.kind == "freshness" and incident.severity == "error"
        assert read.latest_observations(history)["warehouse.orders"].status == Status.FAIL
    finally:
        history.close()
    with sqlite3.connect(database) as conn:
        conn.execute("INSERT INTO orders VALUES (2, '2026-10-04 01:00:00')")
    back = run_monitor(project, as_of="2026-10-04T07:30:00Z", options=options)
    assert back.counts["ok"] == 1
    history = HistoryStore.open(project.config.history.url, project.root)
    try:
        assert read.open_incidents(history) == []
        assert [e.event for e in read.incident_history(history, incident.id)] == ["opened", "resolved"]
    finally:
        history.close()
