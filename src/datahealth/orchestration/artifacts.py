"""Prefect artifacts for a finished run: a markdown summary, a table of dataset statuses, a report link.

Keys are stable per project, tier and shard (`<project>-<tier>-summary`), so the UI's artifact page shows
each one's history across runs. The builders are pure (tested without Prefect); `publish_artifacts`
sends them.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

from datahealth.config.models import Project
from datahealth.core.durations import format_duration
from datahealth.core.redaction import redact
from datahealth.core.results import Status
from datahealth.core.run import DatasetSummary, RunSummary
from datahealth.rules.findings import SEVERITY_RANK, IncidentChange, IncidentEvent, RunEvaluation
from datahealth.rules.status import RUN_SCORE_DEFINITION

_STATUS_ICON = {
    Status.OK.value: "✅",
    Status.WARN.value: "⚠️",
    Status.FAIL.value: "❌",
    Status.UNKNOWN.value: "🛑",
}
_EVENT_HEADINGS = (
    (IncidentEvent.OPENED, "New incidents"),
    (IncidentEvent.CHANGED, "Changed incidents"),
    (IncidentEvent.RESOLVED, "Resolved incidents"),
    (IncidentEvent.UNVERIFIED, "Could not verify (still open)"),
    (IncidentEvent.REOPENED, "Re-opened incidents"),
)


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "datahealth"


def artifact_key(
    project: Project, kind: str, tier: str | None = None, shard: int = 0, shards: int = 1
) -> str:
    """`email-personalisation-daily-summary`; shards get `-shard-2-of-4` so each keeps its own history."""
    parts = [_slug(project.config.project.name), _slug(tier or "all")]
    if shards > 1:
        parts.append(f"shard-{shard + 1}-of-{shards}")
    return "-".join([*parts, kind])


def _cell(value: object) -> str:
    return redact(value).replace("|", "\\|").replace("\n", " ")


def summary_markdown(
    project: Project,
    summary: RunSummary,
    evaluation: RunEvaluation | None,
    *,
    tier: str | None = None,
    report_link: str | None = None,
) -> str:
    """The run as a short story: counts, what changed, what could not be read, where the report is."""
    title = project.config.publish.report.title
    lines = [
        f"# {title}: {tier or 'all datasets'}",
        "",
        f"As of **{summary.as_of[:16].replace('T', ' ')} UTC** · {len(summary.datasets)} datasets · "
        f"health score **{summary.health_score:.0f}/100** ({RUN_SCORE_DEFINITION}) · "
        f"{summary.duration_seconds:.1f}s",
        "",
        "| status | datasets |",
        "|---|---|",
    ]
    lines += [
        f"| {_STATUS_ICON.get(status, '')} {status} | {count} |" for status, count in summary.counts.items()
    ]
    changes: Sequence[IncidentChange] = evaluation.changes if evaluation else []
    for event, heading in _EVENT_HEADINGS:
        items = [c for c in changes if c.event == event]
        if items:
            lines += ["", f"## {heading} ({len(items)})", ""]
            lines += [
                f"- **{_cell(c.incident.dataset)}** ({c.incident.severity}): {_cell(c.incident.title)}"
                for c in items
            ]
    if evaluation is not None and not any(
        c.event in (IncidentEvent.OPENED, IncidentEvent.RESOLVED) for c in changes
    ):
        lines += ["", "No new or resolved incidents."]
    lines += _open_incidents(evaluation)
    if summary.errored:
        lines += ["", f"## Could not be read ({len(summary.errored)})", ""]
        lines += [f"- **{_cell(d.dataset)}** ({d.error_kind}): {_cell(d.error)}" for d in summary.errored]
    if summary.warnings:
        lines += ["", "## Monitor warnings", ""] + [f"- {_cell(w)}" for w in summary.warnings]
    if report_link:
        lines += ["", f"[Open the data-health report]({report_link})"]
    return "\n".join(lines) + "\n"


def _open_incidents(evaluation: RunEvaluation | None) -> list[str]:
    """Every incident still open after this run, worst first; those this run opened are marked new."""
    if evaluation is None or not evaluation.open_incidents:
        return []
    new = {c.incident.fingerprint for c in evaluation.changes if c.event == IncidentEvent.OPENED}
    ordered = sorted(
        evaluation.open_incidents, key=lambda i: (-SEVERITY_RANK.get(i.severity, 0), i.dataset, i.id)
    )
    lines = ["", f"## Open incidents ({len(ordered)})", ""]
    for incident in ordered:
        mark = "🆕 " if incident.fingerprint in new else ""
        lines.append(
            f"- {mark}**#{incident.id} {_cell(incident.dataset)}** ({incident.severity}, "
            f"{incident.status.value}, since {incident.opened_at:%Y-%m-%d %H:%M}): {_cell(incident.title)}"
        )
    return lines


def _reason(dataset: str, error: str | None, evaluation: RunEvaluation | None) -> str | None:
    """Why a dataset is not ok: its error, else the titles of this run's findings on it, worst first."""
    if error:
        return redact(error)
    if evaluation is None:
        return None
    findings = sorted(evaluation.findings_for(dataset), key=lambda f: -SEVERITY_RANK.get(f.severity, 0))
    return redact("; ".join(f.title for f in findings)) if findings else None


def status_table(summary: RunSummary, evaluation: RunEvaluation | None = None) -> list[dict[str, Any]]:
    """One row per dataset, worst first (then lowest health score), as the table artifact shows it."""
    scores = evaluation.scores if evaluation else {}
    rows = []
    for d in sorted(
        summary.datasets, key=lambda d: (-Status(d.status).rank, scores.get(d.dataset, 100.0), d.dataset)
    ):
        rows.append(
            {
                "dataset": d.dataset,
                "status": d.status,
                "reason": _reason(d.dataset, d.error, evaluation),
                "rows": d.rows,
                "last_updated": d.last_updated,
                "freshness_lag": format_duration(d.freshness_lag_seconds)
                if d.freshness_lag_seconds is not None
                else None,
                "checks_failed": d.checks_failed,
                "error": redact(d.error) if d.error else None,
            }
        )
    return rows


def state_message(summary: RunSummary, listed: int = 5) -> str:
    """`4 of 6 datasets failing: a (error), b (fail), …; 1 warning: c` or `All 6 datasets healthy`."""
    total = len(summary.datasets)
    failing = [d for d in summary.datasets if Status(d.status).rank >= Status.FAIL.rank]
    warning = [d for d in summary.datasets if Status(d.status) == Status.WARN]
    failing.sort(key=lambda d: (-Status(d.status).rank, d.dataset))

    def names(items: list[DatasetSummary], with_status: bool) -> str:
        shown = [f"{d.dataset} ({d.status})" if with_status else d.dataset for d in items[:listed]]
        return ", ".join(shown) + (f", … {len(items) - listed} more" if len(items) > listed else "")

    parts = []
    if failing:
        parts.append(f"{len(failing)} of {total} datasets failing: {names(failing, True)}")
    if warning:
        parts.append(f"{len(warning)} warning: {names(warning, False)}")
    if not parts:
        return f"All {total} datasets healthy"
    return "; ".join(parts) + f" · health {summary.health_score:.0f}/100"


def report_link(project: Project, report: str | None) -> str | None:
    """A URL for the rendered report: as given when it is one, under `report.base_url`, else a file URL."""
    if not report:
        return None
    if re.match(r"^[a-z][a-z0-9+.-]*://", report):
        return report
    base = project.config.publish.report.base_url
    path = project.resolve(report)
    if base:
        try:
            relative = path.resolve().relative_to(
                project.resolve(project.config.publish.report.directory).resolve()
            )
        except ValueError:
            relative = Path(path.name)
        return urljoin(base.rstrip("/") + "/", relative.as_posix())
    return path.resolve().as_uri()


def publish_artifacts(
    project: Project,
    summary: RunSummary,
    evaluation: RunEvaluation | None,
    report: str | None,
    *,
    tier: str | None = None,
    shard: int = 0,
    shards: int = 1,
) -> dict[str, str]:
    """Create the three artifacts on the current flow run; returns kind → key of those created."""
    from prefect.artifacts import create_link_artifact, create_markdown_artifact, create_table_artifact

    def key(kind: str) -> str:
        return artifact_key(project, kind, tier, shard, shards)

    link = report_link(project, report)
    created = {"summary": key("summary"), "datasets": key("datasets")}
    create_markdown_artifact(
        markdown=summary_markdown(project, summary, evaluation, tier=tier, report_link=link),
        key=created["summary"],
        description=f"Data health summary ({tier or 'all'})",
    )
    create_table_artifact(
        table=status_table(summary, evaluation),
        key=created["datasets"],
        description=f"Dataset statuses ({tier or 'all'})",
    )
    if link:
        created["report"] = key("report")
        create_link_artifact(
            link=link,
            link_text="Data-health report",
            key=created["report"],
            description=f"The rendered report of this run ({tier or 'all'})",
        )
    return created
