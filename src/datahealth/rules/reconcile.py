"""Reconciliation: did every event arrive? Two sides counted over the same window, compared. Pure, no I/O.

A dataset's `reconcile:` entry names the other side (a dataset, or the stream that feeds it) and a
window period; the run counts both sides over the last complete window (`sources/window.py`) and this
module decides: the window, the tolerance, and the verdict as a `CheckResult` of type `reconcile`, so a
mismatch travels the way every failed check does (a finding, an incident, Slack, metrics, the report)
and its message names both sides and the difference.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from datahealth.config.models import ReconcileConfig
from datahealth.core.reconcile import SideCount, Window
from datahealth.core.results import CheckOutcome, CheckResult

CHECK_TYPE = "reconcile"


def last_window(period: timedelta, timezone: str, as_of: datetime) -> Window:
    """The last complete period before `as_of`, aligned to midnight in `timezone` (1d → yesterday)."""
    tz = ZoneInfo(timezone)
    local = as_of.astimezone(tz)
    midnight = local.replace(hour=0, minute=0, second=0, microsecond=0, tzinfo=None)
    elapsed = local.replace(tzinfo=None) - midnight
    periods = int(elapsed.total_seconds() // period.total_seconds())
    end_local = midnight + period * periods
    start_local = end_local - period
    start = start_local.replace(tzinfo=tz).astimezone(UTC)
    end = end_local.replace(tzinfo=tz).astimezone(UTC)
    if period >= timedelta(days=1):
        label = f"{start_local:%Y-%m-%d}"
    else:
        label = f"{start_local:%Y-%m-%d %H:%M}–{end_local:%H:%M}"
    return Window(start, end, label if timezone == "UTC" else f"{label} {timezone}")


def allowed_difference(tolerance: str, larger: float) -> float:
    """The tolerance as an absolute difference: `10` rows, or `0.5%` of the larger side."""
    text = tolerance.strip()
    if text.endswith("%"):
        return abs(larger) * float(text[:-1]) / 100.0
    return float(text)


def check_name(spec: ReconcileConfig) -> str:
    measure = f" sum({spec.sum})" if spec.sum else (f" distinct({spec.distinct})" if spec.distinct else "")
    return f"reconcile {spec.against}{measure}"


def judge(
    dataset: str, spec: ReconcileConfig, window: Window, mine: SideCount, theirs: SideCount, severity: str
) -> CheckResult:
    """The reconciliation's verdict; `severity` is the dataset's unless the entry names its own."""
    rows_diff = mine.rows - theirs.rows
    rows_ok = abs(rows_diff) <= allowed_difference(spec.tolerance, max(mine.rows, theirs.rows))
    measure_diff = None
    measure_ok = True
    if mine.measure is not None and theirs.measure is not None:
        measure_diff = mine.measure - theirs.measure
        measure_ok = abs(measure_diff) <= allowed_difference(
            spec.tolerance, max(abs(mine.measure), abs(theirs.measure))
        )
    passed = rows_ok and measure_ok
    level = spec.severity or severity
    outcome = CheckOutcome.PASS if passed else (CheckOutcome.WARN if level == "warn" else CheckOutcome.FAIL)
    message = _message(dataset, window, mine, theirs, spec)
    return CheckResult(
        dataset=dataset,
        name=check_name(spec),
        check_type=CHECK_TYPE,
        outcome=outcome,
        observed_value=float(measure_diff if not measure_ok and measure_diff is not None else rows_diff),
        threshold=f"difference within {spec.tolerance}",
        origin=CHECK_TYPE,
        message=message,
        details={
            "window_start": window.start.isoformat(),
            "window_end": window.end.isoformat(),
            "window": window.label,
            "against": spec.against,
            "rows": mine.rows,
            "against_rows": theirs.rows,
            "difference": rows_diff,
            "measure": mine.measure,
            "against_measure": theirs.measure,
            "measure_difference": measure_diff,
            "method": mine.method,
            "against_method": theirs.method,
            "tolerance": spec.tolerance,
        },
    )


def _message(dataset: str, window: Window, mine: SideCount, theirs: SideCount, spec: ReconcileConfig) -> str:
    diff = mine.rows - theirs.rows
    share = f" ({abs(diff) / theirs.rows:.1%})" if theirs.rows else ""
    relation = "the same count" if diff == 0 else f"{abs(diff):,} {'fewer' if diff < 0 else 'more'}{share}"
    text = (
        f"{dataset} has {mine.rows:,} {mine.unit} for {window.label}, {theirs.dataset} {theirs.rows:,} "
        f"{theirs.unit}: {relation}"
    )
    if mine.measure is not None and theirs.measure is not None:
        what = f"sum({spec.sum})" if spec.sum else f"distinct({spec.distinct})"
        text += f"; {what} {mine.measure:,.6g} vs {theirs.measure:,.6g}"
    return text + f"; tolerance {spec.tolerance}"


def error_result(dataset: str, spec: ReconcileConfig, message: str) -> CheckResult:
    """A side could not be counted: an error result (never a pass)."""
    return CheckResult(
        dataset=dataset,
        name=check_name(spec),
        check_type=CHECK_TYPE,
        outcome=CheckOutcome.ERROR,
        origin=CHECK_TYPE,
        message=message,
        details={"against": spec.against},
    )
