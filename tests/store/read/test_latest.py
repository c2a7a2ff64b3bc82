"""'Latest' means the newest as-of time, for every reader: a backfill written after newer runs is history.

Each kind of latest (observation, check set, profile, run) is one query in the read model; the report,
the metrics, `datahealth status` and `datahealth profile` all show what it returns, so they agree.
"""

from __future__ import annotations

from datahealth.cli.render import status_rows
from datahealth.config import Project
from datahealth.core.results import CheckOutcome, DatasetResult, Observation, Status
from datahealth.publish.prometheus.state import state_from_store
from datahealth.report.data import gather_report_data
from datahealth.store import HistoryStore, read
from tests.store.read.conftest import DATASET, DAY, T0, record_run


def backfilled(store: HistoryStore) -> tuple[str, str, str]:
    """Two runs, then a backfill of an earlier day written after them; returns (day 1, day 2, backfill)."""
    first = record_run(store, T0 + DAY, 10, CheckOutcome.FAIL, 0.1)
    second = record_run(store, T0 + 2 * DAY, 20, CheckOutcome.PASS, 0.2)
    backfill = record_run(store, T0, 5, CheckOutcome.ERROR, 0.5)
    return first, second, backfill


def test_the_newest_as_of_wins_over_a_later_backfill(store: HistoryStore) -> None:
    first, second, _ = backfilled(store)
    latest = read.latest_observations(store)[DATASET]
    assert (latest.run_id, latest.row_count, latest.as_of) == (second, 20, T0 + 2 * DAY)
    [check] = read.latest_checks(store)[DATASET]
    assert (check.run_id, check.outcome) == (second, "pass")
    [column] = read.latest_profile(store, DATASET)
    assert (column.run_id, column.null_ratio) == (second, 0.2)
    assert read.latest_run(store).id == second  # type: ignore[union-attr]
    as_of_day_one = read.latest_observations(store, [DATASET], as_of=T0 + DAY)[DATASET]
    assert as_of_day_one.run_id == first
    assert read.latest_checks(store, as_of=T0 + DAY)[DATASET][0].outcome == "fail"
    assert read.latest_profiles(store, as_of=T0 + DAY)[DATASET][0].null_ratio == 0.1
    assert read.latest_run(store, T0 + DAY).id == first  # type: ignore[union-attr]


def test_a_rerun_as_of_the_same_time_replaces_the_earlier_one(store: HistoryStore) -> None:
    record_run(store, T0, 10, CheckOutcome.FAIL, 0.1)
    rerun = record_run(store, T0, 11, CheckOutcome.PASS, 0.3)
    assert read.latest_observations(store)[DATASET].run_id == rerun
    assert [(c.run_id, c.outcome) for c in read.latest_checks(store)[DATASET]] == [(rerun, "pass")]
    assert [c.run_id for c in read.latest_profile(store, DATASET)] == [rerun]


def test_a_metadata_only_run_keeps_the_latest_checks_and_profile(store: HistoryStore) -> None:
    checked = record_run(store, T0, 10, CheckOutcome.FAIL, 0.1)
    run_id = store.start_run(T0 + DAY)
    store.record_dataset_result(
        run_id, DatasetResult(Observation(DATASET, "wh", T0 + DAY, T0 + DAY, row_count=12)), Status.OK
    )
    assert read.latest_observations(store)[DATASET].run_id == run_id
    assert {c.run_id for c in read.latest_checks(store)[DATASET]} == {checked}
    assert {c.run_id for c in read.latest_profile(store, DATASET)} == {checked}


def test_report_metrics_and_status_all_show_the_newest_as_of(project: Project, store: HistoryStore) -> None:
    """Before the read model, the report, the metrics and `status` each picked the latest row by id."""
    _, second, backfill = backfilled(store)
    report = gather_report_data(project, store)
    [view] = report.datasets
    assert (view.rows, view.as_of, [c.outcome for c in view.checks]) == (20, T0 + 2 * DAY, ["pass"])
    assert report.run is not None and report.run.run_id == second
    [metrics] = state_from_store(project, store).datasets
    assert (metrics.rows, metrics.status, metrics.checks) == (
        20,
        Status.OK,
        {"email.missing": CheckOutcome.PASS},
    )
    assert metrics.null_ratios == {"email": 0.2}
    [row] = status_rows(project, store)
    assert (row.rows, row.status, row.as_of) == (20, "ok", (T0 + 2 * DAY).isoformat())
    # the monitor's liveness is another question: the backfill is the run that finished last
    assert read.last_finished_run(store).id == backfill  # type: ignore[union-attr]
