"""What every publisher reads about a finished run: the evaluation and its context, nothing to decide."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from datahealth.config.models import DatasetConfig, Project
from datahealth.core.results import DatasetResult
from datahealth.core.run import RunOptions, RunSummary
from datahealth.report.render import BuiltReport
from datahealth.rules.findings import RunEvaluation
from datahealth.store import HistoryStore


@dataclass
class PublishContext:
    """Everything a publisher may read about the finished run."""

    project: Project
    store: HistoryStore
    run_id: str
    as_of: datetime
    datasets: Sequence[DatasetConfig]
    results: Sequence[DatasetResult]
    evaluation: RunEvaluation
    summary: RunSummary
    options: RunOptions
    flow_run_url: str | None = None
    artifacts: dict[str, str] = field(default_factory=dict)  # e.g. {"report": "reports/latest.html"}
    report: BuiltReport | None = None  # the report rendered for this run (by the report publisher), if any
