"""Renders the report (one self-contained HTML file) and the email bodies from `ReportData`.

Jinja2 with autoescaping for every `.html` template, so each data value and column name is escaped
where it is written. A partial plotly.js bundle (the three trace types the report draws) is inlined once
per file (no CDN: the report works offline and from an email attachment), packed like the chart data
(`payload.pack`); the charts are drawn in the browser from the compact JSON in `payload.py`.
Templates are looked up first in the project's `<report directory>/templates/`, so users can restyle
or extend the report without forking datahealth.
"""

from __future__ import annotations

import functools
import os
import re
import tempfile
from dataclasses import dataclass
from datetime import datetime
from importlib import resources
from pathlib import Path
from typing import Any
from urllib.parse import quote

import jinja2
from markupsafe import Markup

import datahealth
from datahealth.config.models import Project, ReportConfig
from datahealth.core.durations import format_duration
from datahealth.core.wording import format_number, plural
from datahealth.report.data import STATUS_NAMES, ReportData, RunInfo, gather_report_data, gc_paused
from datahealth.report.payload import browser_payload, pack, script_json
from datahealth.rules.findings import RunEvaluation
from datahealth.store import HistoryStore

LATEST = "latest.html"
_REPORT_NAME = re.compile(r"data-health-\d{8}T\d{6}Z\.html")
STATUS_COLORS = {
    "ok": "#2e7d32",
    "warn": "#e08600",
    "fail": "#c62828",
    "unknown": "#6a1b9a",
}
STATUS_BACKGROUNDS = {
    "ok": "#e8f5e9",
    "warn": "#fff4e0",
    "fail": "#fdecea",
    "unknown": "#f3e5f5",
}
SEVERITY_COLORS = {"warn": STATUS_COLORS["warn"], "error": STATUS_COLORS["fail"]}


@dataclass(frozen=True)
class ReportFiles:
    """Where a rendered report was written: the timestamped file and the `latest.html` copy."""

    path: Path
    latest: Path | None
    size: int


def report_filename(as_of: datetime) -> str:
    """Named by the as-of time of the data it shows, so re-rendering the same state replaces the file."""
    return f"data-health-{as_of:%Y%m%dT%H%M%SZ}.html"


def report_url(config: ReportConfig, dataset: str | None = None, filename: str = LATEST) -> str | None:
    """The public URL of a report (and of one dataset's detail in it) when `base_url` is configured."""
    if not config.base_url:
        return None
    url = f"{config.base_url.rstrip('/')}/{quote(filename)}"
    return f"{url}#ds={quote(dataset, safe='')}" if dataset else url


def templates_dir(project: Project) -> Path:
    return project.resolve(project.config.publish.report.directory) / "templates"


@functools.lru_cache(maxsize=8)
def environment(override_dir: str | None = None) -> jinja2.Environment:
    """The Jinja environment: the project's overrides first, then the templates shipped with datahealth."""
    loaders: list[jinja2.BaseLoader] = []
    if override_dir:
        loaders.append(jinja2.FileSystemLoader(override_dir))
    loaders.append(jinja2.PackageLoader("datahealth.report", "templates"))
    env = jinja2.Environment(
        loader=jinja2.ChoiceLoader(loaders),
        autoescape=jinja2.select_autoescape(
            enabled_extensions=("html", "htm", "xml"),
            disabled_extensions=("txt",),
            default_for_string=True,
            default=True,
        ),
        trim_blocks=True,
        lstrip_blocks=True,
        undefined=jinja2.StrictUndefined,
    )
    env.filters.update(
        duration=format_duration,
        plural=_plural,
        number=_number,
        when=_when,
        day=_day,
        epoch=_epoch,
        untitled=_untitled,
    )
    env.globals.update(
        status_colors=STATUS_COLORS,
        status_backgrounds=STATUS_BACKGROUNDS,
        severity_colors=SEVERITY_COLORS,
        statuses=STATUS_NAMES,
        version=datahealth.__version__,
    )
    return env


@functools.lru_cache(maxsize=1)
def plotly_js() -> str:
    """The partial plotly.js bundle shipped with datahealth (scatter, bar and heatmap only: the traces
    report.js draws; `scripts/build-plotly-bundle.sh` builds it), never a CDN, made safe to inline."""
    return _static("vendor/plotly-partial.min.js").replace("</script", "<\\/script")


@functools.lru_cache(maxsize=1)
def plotly_packed() -> str:
    """The bundle as the page embeds it (`payload.pack`), compressed once per process."""
    return pack(plotly_js())


@functools.lru_cache(maxsize=4)
def _static(name: str) -> str:
    return (resources.files("datahealth.report") / "static" / name).read_text(encoding="utf-8")


def render_report_html(data: ReportData, override_dir: Path | None = None) -> str:
    template = environment(_dir(override_dir)).get_template("report.html")
    return template.render(
        data=data,
        datasets=data.sorted_datasets(),
        history_days=(data.as_of - data.window_start).days,
        data_packed=Markup(pack(script_json(browser_payload(data)), level=4)),
        plotly_packed=Markup(plotly_packed()),
        report_js=Markup(_static("report.js")),
        report_css=Markup(_static("report.css")),
    )


def render_email(
    data: ReportData,
    override_dir: Path | None = None,
    *,
    report_name: str | None = None,
    attached: bool = True,
    too_large: bool = False,
) -> tuple[str, str]:
    """The email's HTML body (no JavaScript, inline CSS) and its plain-text alternative. `too_large`: the
    report was to be attached but is over the size limit, so the email says where it is instead."""
    env = environment(_dir(override_dir))
    context: dict[str, Any] = {
        "data": data,
        "report_name": report_name,
        "attached": attached,
        "too_large": too_large,
        "report_link": _email_link(data, report_name),
    }
    return env.get_template("email.html").render(context), env.get_template("email.txt").render(context)


def write_report(
    html: str, directory: Path, as_of: datetime, *, output: Path | None = None, keep: int = 0
) -> ReportFiles:
    """Write `data-health-<as-of>.html` and `latest.html` (a copy, replaced each time) under `directory`
    (or only `output`), atomically; then keep only the newest `keep` timestamped reports (0: all)."""
    content = html.encode("utf-8")
    if output is not None and not output.is_dir():
        _atomic_write(output, content)
        return ReportFiles(output, None, len(content))
    target_dir = output or directory
    path = target_dir / report_filename(as_of)
    _atomic_write(path, content)
    latest = target_dir / LATEST
    _atomic_write(latest, content)
    if keep:
        prune_reports(target_dir, keep, written=path)
    return ReportFiles(path, latest, len(content))


def prune_reports(directory: Path, keep: int, *, written: Path | None = None) -> list[Path]:
    """Remove all but the newest `keep` timestamped reports. Their names sort by as-of time; the report
    just `written` (even a back-dated one), files under other names and `latest.html` are never touched."""
    reports = sorted(p for p in directory.glob("data-health-*.html") if _REPORT_NAME.fullmatch(p.name))
    removed = [p for p in reports[:-keep] if p != written] if keep else []
    for old in removed:
        old.unlink(missing_ok=True)
    return removed


def _atomic_write(path: Path, content: bytes) -> None:
    """Readers (a web server, a browser refresh) never see a half-written report."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(content)
        os.chmod(temp, 0o644)
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise


def _email_link(data: ReportData, report_name: str | None) -> str | None:
    if not data.base_url:
        return None
    return f"{data.base_url.rstrip('/')}/{quote(report_name or LATEST)}"


def _dir(path: Path | None) -> str | None:
    return str(path) if path is not None and path.is_dir() else None


def _plural(count: int, noun: str) -> str:
    """`{{ n|plural("dataset") }}`: "1 dataset", "2 datasets"."""
    return plural(count, noun)


def _untitled(title: str, dataset: str) -> str:
    """A title shown next to its dataset, without the dataset repeated at its start."""
    return title.removeprefix(f"{dataset}: ")


def _number(value: int | float | None) -> str:
    return format_number(value)


def _when(value: datetime | None) -> str:
    return "-" if value is None else value.strftime("%Y-%m-%d %H:%M UTC")


def _day(value: datetime | None) -> str:
    return "-" if value is None else value.strftime("%Y-%m-%d")


def _epoch(value: datetime | None) -> str:
    return "" if value is None else str(int(value.timestamp()))


@dataclass(frozen=True)
class BuiltReport:
    data: ReportData
    files: ReportFiles


def render_project_report(
    project: Project,
    store: HistoryStore,
    *,
    as_of: datetime | None = None,
    evaluation: RunEvaluation | None = None,
    run: RunInfo | None = None,
    output: Path | None = None,
) -> BuiltReport:
    """Gather, render and write the project's report: what `datahealth report`, the demo and the run's
    publisher all call."""
    with gc_paused():  # a thousand datasets: a fifth of the render was the cyclic collector
        data = gather_report_data(project, store, as_of=as_of, evaluation=evaluation, run=run)
        html = render_report_html(data, templates_dir(project))
    config = project.config.publish.report
    directory = project.resolve(config.directory)
    return BuiltReport(data, write_report(html, directory, data.as_of, output=output, keep=config.keep))
