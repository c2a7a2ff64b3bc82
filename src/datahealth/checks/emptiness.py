"""An empty table or an empty profile window is a finding, not a clean profile.

"0 rows profiled · window 1d" used to be stored as a profile like any other, with every column's stats
empty and the dataset `ok`: the one day nothing arrived looked like the healthiest. Here the run's own
counts decide (no extra query): the observation's row count for the table, the profile's for its
window. The verdict is a generated check, `not_empty`, so it becomes an incident, resolves when rows are
back, and shows in the report and alerts like every other check; its outcome follows the dataset's
`on_empty:` (`warn`, `error` or `ignore`). An empty profile is not stored: its stats would teach the
anomaly models that nothing is normal.
"""

from __future__ import annotations

from datahealth.checks.contracts import GENERATED
from datahealth.config.models import DatasetConfig
from datahealth.core.durations import format_duration
from datahealth.core.results import CheckOutcome, CheckResult, DatasetResult

NAME = "not_empty"
_OUTCOME = {"warn": CheckOutcome.WARN, "error": CheckOutcome.FAIL}


def emptiness_check(dataset: DatasetConfig, result: DatasetResult, *, checks_ran: bool) -> CheckResult | None:
    """A failing (or warning) `not_empty` when the table or the profile window is empty, else None.

    Drops an empty profile from `result` so it is never stored as a clean one. Like every check, it is
    only reported in runs whose checks stage ran, and it resolves in the next such run that counts rows
    (a run that evaluates checks resolves the check incidents it did not raise again).
    """
    profile = result.profile
    window_empty = profile is not None and profile.row_count == 0
    if window_empty:
        result.profile = None
    if not checks_ran or dataset.on_empty == "ignore":
        return None
    table_rows = result.observation.row_count if result.observation.ok else None
    if table_rows == 0:
        message = "the table is empty (0 rows)"
    elif window_empty and profile is not None:
        window = dataset.profile.window
        span = f"the last {format_duration(window)}" if window else "the profiled rows"
        when = (
            f" ({profile.window_start:%Y-%m-%d %H:%M} → {profile.window_end:%Y-%m-%d %H:%M} UTC)"
            if profile.window_start and profile.window_end
            else ""
        )
        message = f"no rows in {span}{when}"
    else:
        return None
    return CheckResult(
        dataset.name,
        NAME,
        NAME,
        _OUTCOME[dataset.on_empty],
        observed_value=0,
        threshold="> 0 rows",
        origin=GENERATED,
        message=message,
        details={"switch": "on_empty", "window": window_empty},
    )
