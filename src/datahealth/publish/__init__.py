"""Publishers: each formats and sends what evaluation decided. None of them decides anything.

`publish_run` calls every publisher in turn; a publisher that fails (Pushgateway down, SMTP refused)
adds a warning to the run instead of failing it, and undelivered alerts wait in the history store.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

from datahealth.config.models import DatasetConfig, Project
from datahealth.findings import RunEvaluation
from datahealth.redaction import redact
from datahealth.results import DatasetResult
from datahealth.store import HistoryStore

if TYPE_CHECKING:
    from datahealth.runner import RunOptions, RunSummary

log = logging.getLogger("datahealth.publish")


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


Publisher = Callable[[PublishContext], None]


def publishers() -> list[tuple[str, Publisher]]:
    """The publishers in the order they run (the report first, so alerts can link to it)."""
    from datahealth.publish.prometheus import publish_metrics
    from datahealth.publish.report import publish_report
    from datahealth.publish.slack import publish_slack  # imported here: slack's modules import this one

    return [("report", publish_report), ("prometheus", publish_metrics), ("slack", publish_slack)]


def publish_run(context: PublishContext) -> list[str]:
    """Run every publisher; return warnings for those that failed (secrets masked)."""
    warnings: list[str] = []
    for name, publisher in publishers():
        try:
            publisher(context)
        except Exception as exc:  # a publisher must never fail the run
            message = redact(f"{name}: {type(exc).__name__}: {exc}".splitlines()[0])
            log.warning("publisher %s", message)
            warnings.append(message)
    return warnings
