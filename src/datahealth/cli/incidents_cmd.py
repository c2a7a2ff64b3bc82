"""`datahealth incidents list|show|ack|snooze`: what is wrong, what was, and quieting it while someone works.

Incidents live in the history store; these commands read it and (ack, snooze) record who silenced what
until when. Nothing here queries the monitored data.
"""

from __future__ import annotations

import contextlib
import getpass
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from datahealth.cli.app import app
from datahealth.cli.common import (
    FormatOption,
    ProjectOption,
    console,
    err_console,
    handled_errors,
    open_project,
    open_store,
)
from datahealth.cli.render import STATUS_STYLE
from datahealth.config import Project
from datahealth.core.durations import format_duration, parse_duration
from datahealth.core.results import utc_now
from datahealth.core.wording import plural
from datahealth.rules.findings import Incident, IncidentStatus
from datahealth.store import HistoryStore, read
from datahealth.store.incidents import quiet_incident

incidents_app = typer.Typer(
    help="Incidents: open problems, their history, acknowledging and snoozing them.", no_args_is_help=True
)
app.add_typer(incidents_app, name="incidents")

ForOption = Annotated[
    str | None,
    typer.Option("--for", help="How long to stay quiet, e.g. 4h, 1d (ack: default until resolved)."),
]
SEVERITY_STYLE = {"error": STATUS_STYLE["fail"], "warn": STATUS_STYLE["warn"]}


@contextlib.contextmanager
def project_store(path: Path) -> Iterator[tuple[Project, HistoryStore]]:
    """The project and its history store, closed afterwards; errors become one line and an exit code."""
    with handled_errors():
        loaded = open_project(path, source_secrets=False)
        store = open_store(loaded)
        try:
            yield loaded, store
        finally:
            store.close()


def incident_json(incident: Incident) -> dict[str, Any]:
    return {
        "id": incident.id,
        "dataset": incident.dataset,
        "kind": incident.kind,
        "subject": incident.subject,
        "severity": incident.severity,
        "status": incident.status.value,
        "title": incident.title,
        "message": incident.message,
        "opened_at": incident.opened_at.isoformat(),
        "updated_at": incident.updated_at.isoformat(),
        "last_seen_at": incident.last_seen_at.isoformat(),
        "resolved_at": incident.resolved_at.isoformat() if incident.resolved_at else None,
        "occurrences": incident.occurrences,
        "quiet_until": incident.quiet_until.isoformat() if incident.quiet_until else None,
        "acknowledged_by": incident.acknowledged_by,
        "fingerprint": incident.fingerprint,
        "details": incident.details,
    }


def _state(incident: Incident) -> str:
    if incident.status == IncidentStatus.ACKNOWLEDGED:
        until = f" until {incident.quiet_until:%Y-%m-%d %H:%M}" if incident.quiet_until else ""
        return f"acknowledged{f' by {incident.acknowledged_by}' if incident.acknowledged_by else ''}{until}"
    if incident.status == IncidentStatus.SNOOZED and incident.quiet_until:
        return f"snoozed until {incident.quiet_until:%Y-%m-%d %H:%M}"
    return incident.status.value


@incidents_app.command("list")
def list_incidents(
    project: ProjectOption = Path("."),
    status: Annotated[str, typer.Option(help="open, resolved or all.")] = "open",
    dataset: Annotated[
        list[str] | None, typer.Option("--dataset", "-d", help="Glob on <source>.<dataset>; repeatable.")
    ] = None,
    limit: Annotated[int, typer.Option(min=1, help="At most this many, newest first.")] = 50,
    output: FormatOption = "table",
) -> None:
    """Incidents, newest first (open ones by default)."""
    with project_store(project) as (_, store):
        matching = read.list_incidents(store, status=status, datasets=dataset or [], limit=sys.maxsize)
    rows = matching[:limit]
    if len(matching) > limit:  # never a silent cut: on stderr, so JSON on stdout stays a plain list
        err_console.print(
            f"showing {limit} of {plural(len(matching), 'incident')}, newest first (--limit N for more)",
            highlight=False,
        )
    if output == "json":
        print(json.dumps([incident_json(i) for i in rows], indent=2, default=str))
        return
    if not rows:
        console.print(f"No {'' if status == 'all' else status + ' '}incidents.")
        return
    table = Table(title=f"Incidents ({status})", title_justify="left", header_style="bold")
    for name, justify in (
        ("id", "right"),
        ("dataset", "left"),
        ("severity", "left"),
        ("state", "left"),
        ("opened", "left"),
        ("for", "right"),
        ("runs", "right"),
        ("what", "left"),
    ):
        table.add_column(name, justify=justify, overflow="fold")  # type: ignore[arg-type]
    for incident in rows:
        end = incident.resolved_at or incident.last_seen_at
        style = SEVERITY_STYLE.get(incident.severity, "")
        table.add_row(
            str(incident.id),
            incident.dataset,
            f"[{style}]{incident.severity}[/]",
            _state(incident),
            f"{incident.opened_at:%Y-%m-%d %H:%M}",
            format_duration(end - incident.opened_at),
            str(incident.occurrences),
            escape(incident.title),
        )
    console.print(table)


@incidents_app.command()
def show(
    incident_id: Annotated[int, typer.Argument(help="The incident's id (see `datahealth incidents list`).")],
    project: ProjectOption = Path("."),
    output: FormatOption = "table",
) -> None:
    """One incident: what is wrong, observed vs expected, and its history (opened, changed, acked, resolved)."""
    with project_store(project) as (_, store):
        incident = read.get_incident(store, incident_id)
        if incident is None:
            raise ValueError(f"no incident {incident_id}; see `datahealth incidents list --status all`")
        events = read.incident_history(store, incident_id)
    if output == "json":
        document = {**incident_json(incident), "events": [e.to_dict() for e in events]}
        print(json.dumps(document, indent=2, default=str))
        return
    style = SEVERITY_STYLE.get(incident.severity, "")
    console.print(
        f"[bold]#{incident.id}[/] [{style}]{incident.severity}[/] {escape(incident.title)}", highlight=False
    )
    lines = [
        ("dataset", incident.dataset),
        ("kind", f"{incident.kind} ({incident.subject})"),
        ("state", _state(incident)),
        ("observed", incident.details.get("observed") or "-"),
        ("expected", incident.details.get("expected") or "-"),
        ("detail", incident.message or "-"),
        ("opened", f"{incident.opened_at:%Y-%m-%d %H:%M} UTC"),
        ("last seen", f"{incident.last_seen_at:%Y-%m-%d %H:%M} UTC ({plural(incident.occurrences, 'run')})"),
    ]
    if incident.resolved_at:
        lines.append(("resolved", f"{incident.resolved_at:%Y-%m-%d %H:%M} UTC"))
    for label, value in lines:
        console.print(f"  {label:<10} {escape(str(value))}", highlight=False)
    for change in incident.details.get("changes", []) or []:
        console.print(
            f"    - {escape(str(change.get('kind')))} {escape(str(change.get('column') or ''))}: "
            f"{escape(str(change.get('before')))} → {escape(str(change.get('after')))}",
            highlight=False,
        )
    console.print("  history")
    for event in events:
        details = event.details
        extra = details.get("reason") or details.get("note") or ""
        if event.event in ("acknowledged", "snoozed"):
            who = f" by {details['by']}" if details.get("by") else ""
            extra = f"{who} until {details['until'] or 'resolved'}" + (
                f" ({details['note']})" if details.get("note") else ""
            )
        console.print(
            f"    {event.at:%Y-%m-%d %H:%M}  {event.event:<12} {escape(str(extra))}", highlight=False
        )


def _quiet(
    incident_id: int, project: Path, duration: str | None, by: str | None, note: str, snooze: bool
) -> None:
    with project_store(project) as (loaded, store):
        try:
            length = parse_duration(duration) if duration is not None else None
        except ValueError as exc:
            raise ValueError(f"--for: {exc}") from None
        incident = quiet_incident(
            store, incident_id, utc_now(), duration=length, by=by, snooze=snooze, note=note
        )
    from datahealth.orchestration.events import emit_quieted  # Prefect loads only for this command

    emit_quieted(loaded, incident, snoozed=snooze)
    until = (
        f"until {incident.quiet_until:%Y-%m-%d %H:%M} UTC" if incident.quiet_until else "until it resolves"
    )
    console.print(
        f"#{incident.id} {incident.dataset}: {'snoozed' if snooze else 'acknowledged'} {until}; "
        "alerts stay quiet meanwhile, the incident still resolves on the first clean run.",
        highlight=False,
    )


@incidents_app.command()
def ack(
    incident_id: Annotated[int, typer.Argument(help="The incident's id.")],
    project: ProjectOption = Path("."),
    for_: ForOption = None,
    by: Annotated[str | None, typer.Option(help="Who is on it (default: your user name).")] = None,
    note: Annotated[str, typer.Option(help="A note kept in the incident's history.")] = "",
) -> None:
    """Acknowledge an incident: someone is on it, so no more alerts about it (for a while, or until resolved)."""
    _quiet(incident_id, project, for_, by or getpass.getuser(), note, snooze=False)


@incidents_app.command()
def snooze(
    incident_id: Annotated[int, typer.Argument(help="The incident's id.")],
    project: ProjectOption = Path("."),
    for_: Annotated[str, typer.Option("--for", help="How long to stay quiet, e.g. 4h, 2d.")] = "4h",
    note: Annotated[str, typer.Option(help="A note kept in the incident's history.")] = "",
) -> None:
    """Snooze an incident: no alerts about it for a while; if it still fails afterwards, you hear again."""
    _quiet(incident_id, project, for_, None, note, snooze=True)
