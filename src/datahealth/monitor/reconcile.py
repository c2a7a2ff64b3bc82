"""The run's reconcile stage: count both sides of each `reconcile:` entry over its window, then judge.

Runs with the checks (a reconciliation is a check: daily tiers, not metadata sweeps). Each side is
counted inside its own source's concurrency limit; a side that cannot be counted makes the check an
error naming that side, never a pass. The counting is `sources/window.py`, the verdict
`rules/reconcile.py`; the result joins the dataset's check results.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import datetime

from datahealth.config.models import DatasetConfig, Project, ReconcileConfig
from datahealth.core.errors import DatasetError
from datahealth.core.reconcile import SideCount, Window
from datahealth.core.redaction import redact
from datahealth.core.results import DatasetResult
from datahealth.rules.reconcile import error_result, judge, last_window
from datahealth.sources.base import Source
from datahealth.sources.window import count_side

SourceFor = Callable[[str], Source]
LimitFor = Callable[[str], threading.BoundedSemaphore]


def reconcile_stage(
    project: Project,
    dataset: DatasetConfig,
    as_of: datetime,
    result: DatasetResult,
    source_for: SourceFor,
    limit_for: LimitFor,
) -> None:
    """Append one `reconcile` check result per entry of `dataset.reconcile` to `result.checks`."""
    for spec in dataset.reconcile:
        window = last_window(spec.period, spec.timezone, as_of)
        try:
            other = project.dataset(spec.against)
            mine = _count(dataset, window, spec, source_for, limit_for, other_side=False)
            theirs = _count(other, window, spec, source_for, limit_for, other_side=True)
        except _SideFailed as failed:
            result.checks.append(error_result(dataset.name, spec, str(failed)))
            continue
        except KeyError as exc:
            result.checks.append(error_result(dataset.name, spec, redact(str(exc.args[0]))))
            continue
        result.checks.append(judge(dataset.name, spec, window, mine, theirs, dataset.severity))


class _SideFailed(Exception):
    """One side could not be counted; the message names it."""


def _count(
    side: DatasetConfig,
    window: Window,
    spec: ReconcileConfig,
    source_for: SourceFor,
    limit_for: LimitFor,
    *,
    other_side: bool,
) -> SideCount:
    try:
        source = source_for(side.source)
        with limit_for(side.source):
            return count_side(source, side, window, spec, other_side=other_side)
    except DatasetError as exc:
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    except Exception as exc:  # a driver bug stays with this check
        reason = f"{type(exc).__name__}: {exc}".splitlines()[0]
    raise _SideFailed(redact(f"cannot count {side.name} for {window.label}: {reason}"))
