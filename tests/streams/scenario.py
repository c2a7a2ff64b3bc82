"""Runs the monitor the way a schedule would, one as-of time after another, and reports what it decided."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from datahealth.config import load_project
from datahealth.core.results import DatasetResult
from datahealth.core.run import RunOptions
from datahealth.monitor.runner import MonitorRun
from datahealth.rules.findings import IncidentEvent, RunEvaluation
from tests.support.projects import write_project


@dataclass
class Outcome:
    evaluation: RunEvaluation
    results: dict[str, DatasetResult]

    def events(self, subject: str | None = None) -> list[tuple[str, str, str]]:
        """(event, subject, title) of every incident change, optionally of one subject."""
        return [
            (c.event.value, c.incident.subject, c.incident.title)
            for c in self.evaluation.changes
            if subject is None or c.incident.subject == subject
        ]

    def event(self, subject: str) -> IncidentEvent | None:
        found = [c.event for c in self.evaluation.changes if c.incident.subject == subject]
        assert len(found) <= 1, found
        return found[0] if found else None

    def stream(self, dataset: str) -> dict[str, Any]:
        observation = self.results[dataset].observation
        assert observation.error is None, observation.error
        return dict(observation.details["stream"])


class Monitor:
    """A monitoring project in `root` with the given sources and datasets; `run(as_of)` monitors once."""

    def __init__(self, root: Path, sources: dict[str, Any], datasets: dict[str, Any]) -> None:
        write_project(root, sources, datasets)
        self.project = load_project(root, environ={})

    def run(self, as_of: datetime, *, checks: bool = False) -> Outcome:
        run = MonitorRun.plan(
            self.project, as_of=as_of, options=RunOptions(profile=False, checks=checks, publish=False)
        )
        try:
            results = []
            for source, datasets in run.by_source().items():
                catalog = run.describe(source, datasets)
                results.extend(run.monitor(d, catalog[d.name]) for d in datasets)
            run.finish(results)
            assert run.evaluation is not None
            return Outcome(run.evaluation, {r.dataset: r for r in results})
        finally:
            run.close()
