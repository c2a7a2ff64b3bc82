"""What a dataset task says about failing checks in its log line and its state message."""

from __future__ import annotations

from datetime import UTC, datetime

from datahealth.core.results import CheckOutcome, CheckResult, DatasetResult, Observation
from datahealth.orchestration.tasks import failing_checks

WHEN = datetime(2026, 10, 5, tzinfo=UTC)


def test_failing_checks_are_named_with_value_and_threshold() -> None:
    observation = Observation(dataset="warehouse.orders", source="warehouse", as_of=WHEN, observed_at=WHEN)
    checks = [
        CheckResult(
            "warehouse.orders", "row_count", "row_count", CheckOutcome.FAIL, None, 0.0, "must be > 0"
        ),
        CheckResult("warehouse.orders", "missing id", "missing", CheckOutcome.PASS, "id", 0.0),
        CheckResult("warehouse.orders", "duplicate id", "duplicate", CheckOutcome.FAIL, "id", 2.0),
        CheckResult("warehouse.orders", "metric", "metric", CheckOutcome.ERROR, message="division by zero"),
    ]
    result = DatasetResult(observation, checks=checks)
    assert failing_checks(result) == [
        "row_count: 0 (must be > 0)",
        "duplicate id: 2",
        "metric error: division by zero",
    ]
