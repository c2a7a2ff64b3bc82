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
from datahealth.core.run import RunSummary
from datahealth.rules.findings import IncidentChange, IncidentEvent, RunEvaluation
from datahealth.rules.status import RUN_SCORE_DEFINITION

_STATUS_ICON = {"ok": "✅", "warn": "⚠️", "fail": "❌", "unknown": "🛑"}
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
    if summary.errored:
        lines += ["", f"## Could not be read ({len(summary.errored)})", ""]
        lines += [f"- **{_cell(d.dataset)}** ({d.error_kind}): {_cell(d.error)}" for d in summary.errored]
    if summary.warnings:
        lines += ["", "## Monitor warnings", ""] + [f"- {_cell(w)}" for w in summary.warnings]
    if report_link:
        lines += ["", f"[Open the data-health report]({report_link})"]
    return "\n".join(lines) + "\n"


def status_table(summary: RunSummary) -> list[dict[str, Any]]:
    """One row per dataset, worst first, as the table artifact shows it."""
    order = {"unknown": 0, "fail": 1, "warn": 2, "ok": 3}
    rows = []
    for d in sorted(summary.datasets, key=lambda d: (order.get(d.status, 9), d.dataset)):
        rows.append(
            {
                "dataset": d.dataset,
                "status": d.status,
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
        table=status_table(summary),
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
