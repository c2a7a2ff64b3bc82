"""Tables and JSON for the terminal, built from the history store's latest state."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from rich.markup import escape
from rich.table import Table

from datahealth.config import Project
from datahealth.core.durations import format_duration
from datahealth.core.results import Status
from datahealth.rules.findings import SEVERITY_RANK, Incident
from datahealth.store import HistoryStore, read

STATUS_STYLE = {"ok": "green", "warn": "yellow", "fail": "red", "unknown": "bold red"}


@dataclass
class StatusRow:
    dataset: str
    status: str
    rows: int | None
    last_updated: str | None
    freshness_lag_seconds: float | None
    sla_error_after_seconds: float | None
    checks_failed: int
    error: str | None
    as_of: str | None
    owners: list[str]
    open_incidents: int = 0
    problem: str | None = None  # the worst open incident's title


def status_rows(project: Project, store: HistoryStore, as_of: datetime | None = None) -> list[StatusRow]:
    """One row per configured dataset, from its newest observation (or 'unknown' when never observed);
    with `as_of`, the newest observation by then and the incidents open at that time."""
    names = [d.name for d in project.datasets]
    with read.connect(store) as conn:
        latest = read.latest_observations(conn, names, as_of=as_of)
        incidents: dict[str, list[Incident]] = {}
        wanted = set(names)
        open_then = (
            read.open_incidents(conn, names)
            if as_of is None
            else [
                i
                for i in read.incidents_active_between(conn, as_of, as_of)
                if i.dataset in wanted and (i.resolved_at is None or i.resolved_at > as_of)
            ]
        )
        for incident in open_then:
            incidents.setdefault(incident.dataset, []).append(incident)
    rows = []
    for dataset in project.datasets:
        obs = latest.get(dataset.name)
        sla_seconds = (
            dataset.sla.error_after.total_seconds() if dataset.sla and dataset.sla.error_after else None
        )
        if obs is None:
            rows.append(
                StatusRow(
                    dataset.name,
                    "unknown",
                    None,
                    None,
                    None,
                    sla_seconds,
                    0,
                    "never observed: run `datahealth run`",
                    None,
                    dataset.owners,
                )
            )
            continue
        rows.append(
            StatusRow(
                dataset=dataset.name,
                status=obs.status.value,
                rows=obs.row_count,
                last_updated=obs.last_updated.isoformat() if obs.last_updated else None,
                freshness_lag_seconds=obs.freshness_lag_seconds,
                sla_error_after_seconds=sla_seconds,
                checks_failed=obs.checks_failed,
                error=obs.reason,
                as_of=obs.as_of.isoformat(),
                owners=dataset.owners,
            )
        )
        mine = sorted(incidents.get(dataset.name, []), key=lambda i: -SEVERITY_RANK.get(i.severity, 0))
        rows[-1].open_incidents, rows[-1].problem = len(mine), mine[0].title if mine else None
    return rows


def rows_as_json(rows: list[StatusRow]) -> list[dict[str, Any]]:
    return [asdict(r) for r in rows]


def status_table(rows: list[StatusRow], title: str = "Data health") -> Table:
    table = Table(title=title, title_justify="left", header_style="bold", expand=False)
    for name, justify in (
        ("dataset", "left"),
        ("status", "left"),
        ("rows", "right"),
        ("last updated", "left"),
        ("lag / SLA", "right"),
        ("checks failed", "right"),
        ("incidents", "right"),
        ("problem", "left"),
    ):
        table.add_column(name, justify=justify, overflow="fold")  # type: ignore[arg-type]
    for row in sorted(rows, key=lambda r: (-_rank(r.status), r.dataset)):
        style = STATUS_STYLE.get(row.status, "")
        lag = format_duration(row.freshness_lag_seconds)
        sla = format_duration(row.sla_error_after_seconds) if row.sla_error_after_seconds else "-"
        table.add_row(
            escape(row.dataset),
            f"[{style}]{row.status}[/]",
            f"{row.rows:,}" if row.rows is not None else "-",
            (row.last_updated or "-")[:16].replace("T", " "),
            f"{lag} / {sla}",
            str(row.checks_failed or "-"),
            str(row.open_incidents or "-"),
            escape(row.error or row.problem or ""),
        )
    return table


def _rank(status: str) -> int:
    try:
        return Status(status).rank
    except ValueError:
        return -1
