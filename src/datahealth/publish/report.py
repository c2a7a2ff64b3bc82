"""The report publisher: renders the HTML report after a run and emails it.

It runs first among the publishers so that Slack messages and Prefect artifacts can link to the file
(`context.artifacts["report"]`, and `["report_url"]` when `publish.report.base_url` is set). The report
is rendered when the run asks for it (`RunOptions.report`, set from the tier's `report: true`); the email
goes out when the run asks for it (`RunOptions.email`) or when a report was rendered and an SMTP host is
configured. Report emails left pending by an earlier SMTP outage are retried on every run that has an
SMTP host, rendered report or not.
"""

from __future__ import annotations

from datetime import datetime

from datahealth.publish.context import PublishContext
from datahealth.publish.email import EmailError, EmailOutcome, deliver_pending, send_report_email
from datahealth.report.data import RunInfo
from datahealth.report.render import BuiltReport, render_project_report, report_url
from datahealth.store import read


class EmailDeliveryError(Exception):
    """Raised after the report was written, so the run records the email problem as a warning."""


def publish_report(context: PublishContext) -> None:
    publish = context.project.config.publish
    tier = _tier(context)
    tier_config = context.project.config.tiers.get(tier) if tier else None
    wants_report = context.options.report or bool(tier_config and tier_config.report)
    built: BuiltReport | None = None
    if wants_report or context.options.email:
        built = render_project_report(
            context.project,
            context.store,
            as_of=context.as_of,
            evaluation=context.evaluation,
            run=_run_info(context, tier),
        )
        context.artifacts["report"] = str(built.files.path)
        if built.files.latest is not None:
            context.artifacts["report_latest"] = str(built.files.latest)
        url = report_url(publish.report, filename=built.files.path.name)
        if url:
            context.artifacts["report_url"] = url
    if not (context.options.email or publish.email.smtp_host):
        return
    try:
        if built is not None:
            outcome = send_report_email(context.project, context.store, built, run_id=context.run_id)
        else:
            outcome = deliver_pending(context.store, publish.email)
    except EmailError as exc:
        outcome = EmailOutcome(warnings=[f"email: {exc}"])
    if outcome.warnings:
        raise EmailDeliveryError("; ".join(outcome.warnings))


def _tier(context: PublishContext) -> str | None:
    run = read.get_run(context.store, context.run_id)
    return run.tier if run else None


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
