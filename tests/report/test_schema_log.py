"""The report's schema log and the schema-change finding name the same changes for the same history."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from datahealth.core.results import ColumnInfo, DatasetResult, Observation, Status
from datahealth.report.data import gather_report_data
from datahealth.report.schema_log import diff_snapshots
from datahealth.rules.evaluate import evaluate_dataset
from datahealth.rules.findings import Finding, FindingKind
from datahealth.store.queries import load_history
from tests.report.history import AS_OF, HOSTILE_COLUMN, ORDERS, History


def _day_six_columns(email: str = "email", hostile_nullable: bool = True) -> tuple[ColumnInfo, ...]:
    """The orders schema since day 6 of the history (id retyped, coupon added), optionally changed more."""
    return (
        ColumnInfo("id", "BIGINT", False),
        ColumnInfo(email, "VARCHAR", True),
        ColumnInfo(HOSTILE_COLUMN, "VARCHAR", hostile_nullable),
        ColumnInfo("coupon", "VARCHAR", True),
    )


def _record(history: History, at: datetime, columns: tuple[ColumnInfo, ...]) -> DatasetResult:
    result = DatasetResult(Observation(ORDERS, "warehouse", at, at, 0.1, 1_100, "exact", at, "max", columns))
    run_id = history.store.start_run(at, tier="daily")
    history.store.record_dataset_result(run_id, result, Status.OK)
    history.store.finish_run(run_id, status="completed", datasets_failed=0, duration_seconds=1.0)
    return result


def _schema_finding(history: History, result: DatasetResult, at: datetime) -> Finding:
    dataset = history.project.dataset(ORDERS)
    verdict = evaluate_dataset(dataset, result, load_history(history.store, [dataset], at), at)
    [finding] = [f for f in verdict.findings if f.kind == FindingKind.SCHEMA_CHANGE]
    return finding


def _log(history: History) -> list[dict[str, object]]:
    views = {d.name: d for d in gather_report_data(history.project, history.store).datasets}
    return [entry.change.to_dict() for entry in views[ORDERS].schema_changes]


def test_one_change_since_the_baseline_is_named_alike(history: History) -> None:
    """Day 6 of the history retyped `id` and added `coupon`; the baseline is day 0's schema."""
    at = AS_OF + timedelta(days=1)
    finding = _schema_finding(history, _record(history, at, _day_six_columns()), at)
    assert finding.details["changes"] == _log(history)
    assert [c["kind"] for c in finding.details["changes"]] == ["type_changed", "column_added"]


def test_changes_over_several_snapshots_add_up_to_the_finding(history: History) -> None:
    """A rename (same type, same position) and a nullability change on top of day 6's changes: the log
    lists each change when it appeared, the finding all of them against the baseline, in the same words."""
    at = AS_OF + timedelta(days=1)
    columns = _day_six_columns(email="email_address", hostile_nullable=False)
    finding = _schema_finding(history, _record(history, at, columns), at)
    log = _log(history)
    assert sorted(map(str, finding.details["changes"])) == sorted(map(str, log))
    assert {(c["kind"], c["before"], c["after"]) for c in log} >= {
        ("probable_rename", "email", "email_address"),
        ("nullability_changed", "nullable", "not null"),
    }


def test_a_rename_is_one_change_not_a_removal_and_an_addition() -> None:
    at = datetime(2026, 1, 1, tzinfo=UTC)
    before = [{"name": "customer_id", "data_type": "BIGINT", "nullable": False}]
    after = [{"name": "customer_key", "data_type": "bigint", "nullable": False}]  # type spelled differently
    [entry] = diff_snapshots([(at, before, True), (at + timedelta(days=1), after, False)])
    assert (entry.at, entry.accepted) == (at + timedelta(days=1), False)
    assert entry.change.describe() == "column customer_id probably renamed to customer_key"
