"""The publisher registry: its order, which publishers a run calls, and failures as warnings."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from datahealth.config import Project
from datahealth.core.redaction import register_secret
from datahealth.core.run import RunOptions, RunSummary
from datahealth.publish import REGISTRY, publish_run
from datahealth.publish.base import Registry, SendResult
from datahealth.publish.context import PublishContext
from datahealth.rules.findings import RunEvaluation
from datahealth.store import HistoryStore
from tests.publish.runs import AS_OF, orders_project

SECRET = "registry-secret-5d1e"


@dataclass
class Recording:
    """A publisher that records being called (and fails when told to): the registry's own mechanics."""

    name: str
    on: bool = True
    error: Exception | None = None
    calls: list[str] = field(default_factory=list)

    def enabled(self, project: Project) -> bool:
        return self.on

    def publish(self, context: PublishContext) -> None:
        self.calls.append(context.run_id)
        if self.error is not None:
            raise self.error

    def send_test(self, project: Project, to: Sequence[str] = ()) -> SendResult:
        return SendResult.sent(f"{self.name} works")


def context(tmp_path: Path, options: RunOptions) -> PublishContext:
    project = orders_project(tmp_path)
    store = HistoryStore.open(project.config.history.url, project.root)
    summary = RunSummary("run-1", AS_OF.isoformat(), AS_OF.isoformat(), 0.0, 100.0, {}, [])
    return PublishContext(
        project, store, "run-1", AS_OF, project.datasets, [], RunEvaluation({}, {}), summary, options
    )


def test_the_report_runs_first_so_the_others_can_use_it() -> None:
    assert REGISTRY.names == ["report", "email", "prometheus", "slack"]
    assert REGISTRY.get("slack").name == "slack"
    with pytest.raises(KeyError, match="publishers: report, email, prometheus, slack"):
        REGISTRY.get("pager")
    with pytest.raises(ValueError, match="unique"):
        Registry([Recording("a"), Recording("a")])


def test_a_run_calls_enabled_and_requested_publishers_and_a_failure_is_a_warning(tmp_path: Path) -> None:
    register_secret(SECRET)
    failing = Recording("report", error=RuntimeError(f"disk full, writing with {SECRET}\ntraceback lines"))
    asked = Recording("email", on=False)  # not enabled, but the run asks for the email
    skipped = Recording("prometheus", on=False)
    last = Recording("slack")
    published = context(tmp_path, RunOptions(email=True))
    try:
        warnings = publish_run(published, Registry([failing, asked, skipped, last]))
    finally:
        published.store.close()
    assert warnings == ["report: RuntimeError: disk full, writing with ***"]  # one line, secret masked
    assert (failing.calls, asked.calls, skipped.calls, last.calls) == (["run-1"], ["run-1"], [], ["run-1"])
