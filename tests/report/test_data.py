"""The report's data: what is read from the history store and how it is placed on the time axis."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from datahealth.core.results import DatasetResult, Observation, Status
from datahealth.report.axis import build_axis
from datahealth.report.data import gather_report_data
from datahealth.report.schema_log import diff_snapshots
from datahealth.rules.findings import Finding, FindingKind, Incident, IncidentStatus, RunEvaluation
from datahealth.rules.status import health_score
from datahealth.store import HistoryStore
from tests.report.history import (
    AS_OF,
    BROKEN,
    CUSTOMERS,
    DAYS,
    HOSTILE_COLUMN,
    HOSTILE_DATASET,
    ORDERS,
    QUIET,
    SECRET,
    START,
    History,
    build_history,
    write_report_project,
)
from tests.support.postgres import sqlalchemy_url


def test_axis_has_one_point_per_run_until_it_must_bucket() -> None:
    start = datetime(2026, 1, 1, tzinfo=UTC)
    daily = [(f"r{i}", start + timedelta(days=i), "daily") for i in range(5)]
    axis = build_axis(daily, start, start + timedelta(days=4), max_points=10)
    assert axis.points == [t for _, t, _ in daily]
    assert [axis.index(f"r{i}") for i in range(5)] == [0, 1, 2, 3, 4]
    assert axis.shown_runs == [f"r{i}" for i in range(5)]

    frequent = [(f"q{i:03d}", start + timedelta(minutes=15 * i), "frequent") for i in range(96 * 3)]
    nightly = [(f"n{d}", start + timedelta(days=d, hours=7), "daily") for d in range(3)]
    adhoc = [("adhoc", start + timedelta(days=1, hours=13), None)]
    axis = build_axis(frequent + nightly + adhoc, start, start + timedelta(days=3), max_points=12)
    assert len(axis) == 12
    assert axis.points[-1] == frequent[-1][1]  # a bucket is labelled by its newest run
    assert axis.index("q000") == 0 and axis.index(frequent[-1][0]) == 11
    assert sorted(set(axis.run_index.values())) == list(range(12))
    # read only the newest run of each tier per bucket, and every run without a tier
    assert {r for r in axis.shown_runs if r.startswith("q")} == {f"q{24 * b + 23:03d}" for b in range(12)}
    assert {"n0", "n1", "n2", "adhoc"} <= set(axis.shown_runs) and len(axis.shown_runs) == 16


def test_gathers_statuses_counts_and_history(history: History) -> None:
    data = gather_report_data(history.project, history.store)
    views = {d.name: d for d in data.datasets}
    assert data.as_of == AS_OF
    assert len(data.axis) == DAYS
    assert data.counts == {"ok": 0, "warn": 0, "fail": 3, "unknown": 2}
    assert views[QUIET].status == "unknown" and views[QUIET].rows is None
    orders = views[ORDERS].history
    assert orders.rows[0] == 1000 and orders.rows[8] == 100 and orders.rows[9] == 1090
    assert orders.lags == [3 * 3600.0] * DAYS
    assert orders.statuses[:8] == ["ok"] * 8 and orders.statuses[8:] == ["fail", "fail"]
    assert orders.null_columns == ["id", "email", HOSTILE_COLUMN, "coupon"]
    assert orders.null_ratios[1][9] == 0.25 and orders.null_ratios[3][:6] == [None] * 6
    assert dict(
        (name, "".join(o[0] if o else "-" for o in outcomes)) for name, _, outcomes in orders.checks
    ) == {"missing email": "ppppppppff", "row count": "pppppppppp"}
    assert data.health_counts[0] == {"ok": 4, "warn": 0, "fail": 0, "unknown": 0}
    assert data.health_counts[-1] == {"ok": 0, "warn": 0, "fail": 3, "unknown": 1}
    fail, error = health_score([Status.FAIL]), health_score([Status.UNKNOWN])
    assert data.health_scores[0] == 100.0 and data.health_scores[-1] == round((3 * fail + error) / 4, 1)


def test_scores_follow_open_incidents_like_the_runs_score(history: History) -> None:
    data = gather_report_data(history.project, history.store)
    views = {d.name: d for d in data.datasets}
    assert views[BROKEN].score == 0.0 and views[QUIET].score is None  # not observable; never observed
    orders, customers, hostile = views[ORDERS].score, views[CUSTOMERS].score, views[HOSTILE_DATASET].score
    assert orders is not None and hostile is not None
    assert orders == customers < hostile < 100.0  # an open error incident costs more than a warning
    assert data.score == round((orders + orders + hostile + 0.0) / 4, 1)


def test_failing_checks_show_row_counts(history: History) -> None:
    views = {d.name: d for d in gather_report_data(history.project, history.store).datasets}
    for name in (ORDERS, CUSTOMERS, HOSTILE_DATASET):
        check = views[name].checks[0]
        assert check.failing and check.failing_rows == 3


def test_secrets_in_stored_text_are_masked(history: History) -> None:
    data = gather_report_data(history.project, history.store)
    views = {d.name: d for d in data.datasets}
    assert views[BROKEN].error is not None and SECRET not in views[BROKEN].error
    assert all(SECRET not in c.message for d in data.datasets for c in d.checks)
    assert data.run is not None and data.run.warnings and all(SECRET not in w for w in data.run.warnings)


def test_findings_anomalies_incidents_and_schema_log(history: History) -> None:
    data = gather_report_data(history.project, history.store)
    views = {d.name: d for d in data.datasets}
    orders = views[ORDERS]
    assert orders.history.anomalies == {8}
    assert orders.history.bands == {8: (1020.0, 1140.0)}
    customers = views[CUSTOMERS].history  # rows added 5-20 on top of the 1,080 rows before: 1,085-1,100
    assert customers.anomalies == {9} and customers.bands == {9: (1085.0, 1100.0)}
    assert [f.title for f in orders.findings] == [f"{ORDERS}: check missing email failed"]  # latest run only
    assert [
        (e.change.kind, e.change.column, e.change.before, e.change.after) for e in orders.schema_changes
    ] == [
        ("type_changed", "id", "INTEGER", "BIGINT"),
        ("column_added", "coupon", None, "VARCHAR"),
    ]
    assert orders.last_schema_change == START + timedelta(days=6)
    assert [i.dataset for i in data.open_incidents] == [ORDERS, CUSTOMERS, HOSTILE_DATASET]
    assert [i.status for i in data.incidents if not i.is_open] == ["resolved"]
    assert orders.open_incidents == 1 and views[QUIET].open_incidents == 0
    assert [d.name for d in data.worst(3)] == [BROKEN, CUSTOMERS, ORDERS]


def test_a_later_metadata_only_run_keeps_the_latest_checks(history: History) -> None:
    later = AS_OF + timedelta(hours=1)
    run_id = history.store.start_run(later, tier="frequent")
    history.store.record_dataset_result(
        run_id, DatasetResult(Observation(ORDERS, "warehouse", later, later, row_count=5)), Status.OK
    )
    history.store.finish_run(run_id, status="completed", datasets_failed=0, duration_seconds=1.0)
    views = {d.name: d for d in gather_report_data(history.project, history.store).datasets}
    assert views[ORDERS].rows == 5
    assert [c.name for c in views[ORDERS].checks] == ["missing email", "row count"]
    assert views[ORDERS].checks_failed == 1


def test_the_runs_evaluation_supplies_current_findings_and_incidents(history: History) -> None:
    finding = Finding(CUSTOMERS, FindingKind.FRESHNESS, "sla", "error", "customers is 4 days old")
    now = AS_OF
    incident = Incident(
        99,
        finding.fingerprint,
        CUSTOMERS,
        "freshness",
        "sla",
        "error",
        IncidentStatus.OPEN,
        "customers is 4 days old",
        "",
        now,
        now,
        now,
    )
    evaluation = RunEvaluation(
        statuses={CUSTOMERS: Status.FAIL}, scores={}, findings=[finding], open_incidents=[incident]
    )
    data = gather_report_data(history.project, history.store, evaluation=evaluation)
    views = {d.name: d for d in data.datasets}
    assert [f.title for f in views[CUSTOMERS].findings] == ["customers is 4 days old"]
    assert 99 in {i.id for i in data.open_incidents}
    assert views[ORDERS].findings  # datasets outside the evaluation keep their stored findings


def test_an_empty_store_gives_an_empty_report(tmp_path: Path) -> None:
    project = write_report_project(tmp_path)
    store = HistoryStore.open(project.config.history.url, project.root)
    try:
        data = gather_report_data(project, store)
    finally:
        store.close()
    assert len(data.axis) == 0 and data.run is None and data.incidents == []
    assert data.counts["unknown"] == len(project.datasets) and data.score is None


def test_schema_diff_reports_nullability_and_removal() -> None:
    at = datetime(2026, 1, 1, tzinfo=UTC)
    before = [
        {"name": "a", "data_type": "INT", "nullable": True},
        {"name": "b", "data_type": "TEXT", "nullable": True},
    ]
    after = [{"name": "a", "data_type": "INT", "nullable": False}]
    changes = diff_snapshots([(at, before, True), (at + timedelta(days=1), after, False)])
    assert [(e.change.kind, e.change.column, e.change.before, e.change.after) for e in changes] == [
        ("nullability_changed", "a", "nullable", "not null"),
        ("column_removed", "b", "TEXT", None),
    ]


def test_the_same_report_data_from_a_postgresql_history_store(tmp_path: Path, pg_database: str) -> None:
    built = build_history(tmp_path, history_url=sqlalchemy_url(pg_database))
    try:
        data = gather_report_data(built.project, built.store)
    finally:
        built.store.close()
    views = {d.name: d for d in data.datasets}
    assert data.counts == {"ok": 0, "warn": 0, "fail": 3, "unknown": 2}
    assert views[ORDERS].history.rows[8] == 100 and views[ORDERS].history.anomalies == {8}
    assert views[ORDERS].history.null_ratios[1][9] == 0.25
    assert [c.name for c in views[ORDERS].checks] == ["missing email", "row count"]
    assert [i.dataset for i in data.open_incidents] == [ORDERS, CUSTOMERS, HOSTILE_DATASET]
    assert [e.change.kind for e in views[ORDERS].schema_changes] == ["type_changed", "column_added"]


def test_many_runs_are_bucketed_and_each_bucket_shows_its_newest_value(history: History) -> None:
    for step in range(1, 12):  # a frequent metadata tier on the last day, every two hours, until 2h before it
        at = AS_OF + timedelta(hours=2 * step) - timedelta(days=1)
        run_id = history.store.start_run(at, tier="frequent")
        history.store.record_dataset_result(
            run_id, DatasetResult(Observation(ORDERS, "warehouse", at, at, row_count=5000 + step)), Status.OK
        )
    report = history.project.config.publish.report.model_copy(update={"max_points": 10})
    config = history.project.config.model_copy(
        update={"publish": history.project.config.publish.model_copy(update={"report": report})}
    )
    project = history.project.model_copy(update={"config": config})
    data = gather_report_data(project, history.store, as_of=AS_OF + timedelta(hours=2))
    views = {d.name: d for d in data.datasets}
    assert len(data.axis) <= 10
    rows = views[ORDERS].history.rows
    assert rows[-1] == 1090  # the last bucket's newest run is the daily one at AS_OF, after the frequent ones
    assert not {5000 + step for step in range(1, 12)} & set(rows)
    assert all(len(series) == len(data.axis) for series in (rows, views[CUSTOMERS].history.rows))
    history_ = views[ORDERS].history  # the daily runs' profiles and checks are still read
    assert history_.null_ratios[1][-1] == 0.25 and history_.checks[0][2][-1] == "fail"
