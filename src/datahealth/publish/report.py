"""The report publisher: renders the HTML report after a run, first among the publishers.

It runs first so that the email, Slack messages and Prefect artifacts can use what it made: the built
report (`context.report`, which the email publisher sends) and its file (`context.artifacts["report"]`,
and `["report_url"]` when `publish.report.base_url` is set). The report is rendered when the run asks for
it (`RunOptions.report`, set from the tier's `report: true`) or asks for the email, which carries it.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Sequence
from datetime import datetime

from datahealth.config.models import Project
from datahealth.publish.base import SendResult
from datahealth.publish.context import PublishContext
from datahealth.report.data import RunInfo
from datahealth.report.render import render_project_report, report_url
from datahealth.store import read


class ReportPublisher:
    name = "report"

    def enabled(self, project: Project) -> bool:
        """Always available: whether a run renders it is the run's (or its tier's) choice."""
        return True

    def publish(self, context: PublishContext) -> None:
        run = read.get_run(context.store, context.run_id)
        tier = run.tier if run else None
        tier_config = context.project.config.tiers.get(tier) if tier else None
        if not (context.options.report or context.options.email or (tier_config and tier_config.report)):
            return
        built = render_project_report(
            context.project,
            context.store,
            as_of=context.as_of,
            evaluation=context.evaluation,
            run=_run_info(context, tier),
        )
        context.report = built
        context.artifacts["report"] = str(built.files.path)
        if built.files.latest is not None:
            context.artifacts["report_latest"] = str(built.files.latest)
        url = report_url(context.project.config.publish.report, filename=built.files.path.name)
        if url:
            context.artifacts["report_url"] = url

    def send_test(self, project: Project, to: Sequence[str] = ()) -> SendResult:
        """The report directory takes a file (written and removed again): a run can publish the report."""
        directory = project.resolve(project.config.publish.report.directory)
        try:
            directory.mkdir(parents=True, exist_ok=True)
            fd, name = tempfile.mkstemp(dir=directory, prefix=".datahealth-test-", suffix=".tmp")
            os.close(fd)
            os.unlink(name)
        except OSError as exc:
            return SendResult.failed(f"cannot write reports to {directory}: {exc.strerror or exc}")
        return SendResult.sent(f"the report directory {directory} is writable")


def _run_info(context: PublishContext, tier: str | None) -> RunInfo:
    summary = context.summary
    return RunInfo(
        run_id=context.run_id,
        as_of=context.as_of,
        started_at=_parse(summary.started_at),
        duration_seconds=summary.duration_seconds,
        tier=tier,
        status="publishing",
        datasets_total=len(summary.datasets),
        datasets_failed=len(summary.errored),
        warnings=tuple(summary.warnings),
    )


def _parse(value: str | None) -> datetime | None:
    try:
        return datetime.fromisoformat(value) if value else None
    except ValueError:
        return None
