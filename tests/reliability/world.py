"""The world a fault test breaks: a monitoring project wired to every publisher, and ways to read what came out.

A project here publishes everything a real deployment would: the HTML report, a metrics textfile and
(optionally) a Pushgateway, Slack through the fake Slack server, and the report email over SMTP. The
readers below look at each output the way an operator would: the run summary, the stored history, the
report page, the metrics file, the Slack channel.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

import yaml

from datahealth.config import load_project
from datahealth.core.results import DatasetResult, StoredObservation
from datahealth.core.run import RunOptions, RunSummary
from datahealth.monitor.runner import add_progress_listener, remove_progress_listener, run_monitor
from datahealth.report.payload import unpack_page
from datahealth.rules.findings import Incident
from datahealth.store import HistoryStore, read
from tests.support.fake_slack import FakeSlack
from tests.support.projects import write_project
from tests.support.prometheus import parse_samples

SLACK_TOKEN_ENV = "DH_RELIABILITY_SLACK_TOKEN"
CHANNEL = "#data-alerts"
RECIPIENT = "data-team@example.com"
STATUS_VALUES = {0: "ok", 1: "warn", 2: "fail", 3: "unknown"}
DUCKDB_WAREHOUSE = {"wh": {"kind": "sql", "url": "duckdb:///wh.duckdb"}}  # wh.duckdb in the project root


def keyed_table(**extra: Any) -> dict[str, Any]:
    """A dataset with an `id` primary key and an `updated_at` timestamp (the tables these tests build)."""
    return {"timestamp_column": "updated_at", "primary_key": ["id"], **extra}


def write_monitoring_project(
    root: Path,
    sources: dict[str, Any],
    datasets: dict[str, Any],
    *,
    slack: FakeSlack | None = None,
    smtp_port: int | None = None,
    pushgateway_url: str | None = None,
    history_url: str | None = None,
    email: dict[str, Any] | None = None,
    slack_settings: dict[str, Any] | None = None,
    retention_days: int | None = None,
    settings: dict[str, Any] | None = None,
) -> Path:
    """sla_config/ for `sources` and `datasets`, publishing to every service given (all to one channel)."""
    publish: dict[str, Any] = {
        "prometheus": {
            "textfile": "reports/datahealth.prom",
            "pushgateway_url": pushgateway_url,
            "push_timeout_seconds": 5,
        }
    }
    if slack is not None:
        publish["slack"] = {
            "token_env": SLACK_TOKEN_ENV,
            "base_url": slack.api_url,
            "retry_budget": "3s",
            "timeout_seconds": 5,
            **(slack_settings or {}),
        }
    if smtp_port is not None:
        publish["email"] = {
            "smtp_host": "127.0.0.1",
            "smtp_port": smtp_port,
            "security": "none",
            "recipients": [RECIPIENT],
            "timeout_seconds": 5,
            **(email or {}),
        }
    sections: dict[str, Any] = {"project": settings} if settings else {}
    routing = [{"name": "all", "slack_channel": CHANNEL}]
    write_project(root, sources, datasets, publish=publish, routing=routing, **sections)
    if history_url is not None or retention_days is not None:
        project_file = root / "sla_config" / "project.yaml"
        config = yaml.safe_load(project_file.read_text())
        if history_url is not None:
            config["history"]["url"] = history_url
        if retention_days is not None:
            config["history"]["retention_days"] = retention_days
        project_file.write_text(yaml.safe_dump(config, sort_keys=False))
    return root


def run(
    root: Path,
    as_of: str | datetime | None = None,
    *,
    report: bool = True,
    profile: bool = True,
    checks: bool = True,
    max_workers: int = 1,
) -> RunSummary:
    """One run without Prefect; `max_workers=1` keeps the order of datasets, so a fault lands between two."""
    options = RunOptions(profile=profile, checks=checks, report=report)
    return run_monitor(load_project(root), as_of=as_of, options=options, max_workers=max_workers)


@contextmanager
def after_datasets(count: int, action: Callable[[], None]) -> Iterator[list[str]]:
    """Do `action` once, right after the run's `count`-th dataset finished (a fault in the middle of a run)."""
    finished: list[str] = []

    def listener(result: DatasetResult) -> None:
        finished.append(result.dataset)
        if len(finished) == count:
            action()

    add_progress_listener(listener)
    try:
        yield finished
    finally:
        remove_progress_listener(listener)


# what an operator sees -----------------------------------------------------------------------------


def by_dataset(summary: RunSummary) -> dict[str, Any]:
    return {d.dataset: d for d in summary.datasets}


def open_store(root: Path) -> HistoryStore:
    project = load_project(root)
    return HistoryStore.open(project.config.history.url, project.root)


def history(root: Path, datasets: list[str]) -> dict[str, list[StoredObservation]]:
    store = open_store(root)
    try:
        return read.observation_history(store, datasets)
    finally:
        store.close()


def incidents(root: Path, status: str = "all") -> list[Incident]:
    store = open_store(root)
    try:
        return read.list_incidents(store, status=status)
    finally:
        store.close()


def textfile_statuses(root: Path) -> dict[str, str]:
    """datahealth_dataset_status per dataset from the metrics textfile, as status names."""
    samples = parse_samples((root / "reports" / "datahealth.prom").read_text())
    return {
        dict(labels)["dataset"]: STATUS_VALUES[int(value)]
        for (name, labels), value in samples.items()
        if name == "datahealth_dataset_status"
    }


def report_html(root: Path) -> str:
    """The latest report as the browser reads it (its packed data inflated)."""
    return unpack_page((root / "reports" / "latest.html").read_text())


def slack_headers(slack: FakeSlack) -> list[str]:
    """The header line of each top-level message in the channel, as a user sees it now (after edits)."""
    return [m.blocks[0]["text"]["text"] for m in slack.top_level(CHANNEL)]
