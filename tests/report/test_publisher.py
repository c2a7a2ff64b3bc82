"""The report as a step of a real monitoring run: rendered when the tier or the run asks, emailed,
and an email that failed in one run delivered by the next."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from datahealth.config import Project, load_project
from datahealth.core.run import RunOptions
from datahealth.monitor.runner import MonitorRun, run_monitor
from datahealth.publish.context import PublishContext
from datahealth.publish.report import publish_report
from datahealth.store import deliveries
from tests.support.ports import free_port
from tests.support.projects import write_project
from tests.support.smtp import SmtpStarter

AS_OF = datetime(2026, 10, 5, 7, 0, tzinfo=UTC)


def _project(root: Path, smtp_port: int | None = None, **report: Any) -> Project:
    database = root / "warehouse.db"
    with sqlite3.connect(database) as conn:
        conn.execute("CREATE TABLE IF NOT EXISTS orders (id INTEGER PRIMARY KEY, updated_at TIMESTAMP)")
        conn.execute(
            "INSERT INTO orders (updated_at) VALUES ('2026-10-05 05:00:00'), ('2026-10-05 06:00:00')"
        )
    email: dict[str, Any] = {"recipients": ["data@example.com"], "security": "none", "timeout_seconds": 60}
    if smtp_port is not None:
        email.update(smtp_host="127.0.0.1", smtp_port=smtp_port)
    write_project(
        root,
        {"warehouse": {"kind": "sql", "url": f"sqlite:///{database}"}},
        {
            "warehouse.orders": {
                "table": "orders",
                "timestamp_column": "updated_at",
                "sla": {"error_after": "1d"},
            },
            "warehouse.orders_sweep": {"table": "orders", "tier": "frequent"},
        },
        tiers={"daily": {"report": True}, "frequent": {"profile": False, "checks": False}},
        publish={"email": email, "report": report, "prometheus": {"textfile": None}},
    )
    return load_project(root)


def _report_warnings(warnings: list[str]) -> list[str]:
    return [w for w in warnings if w.startswith("report")]


def test_a_tier_with_report_true_renders_and_emails_it(tmp_path: Path, smtp_server: SmtpStarter) -> None:
    with smtp_server() as server:
        project = _project(tmp_path, server.port)
        summary = run_monitor(project, tier="daily", as_of=AS_OF)
        assert _report_warnings(summary.warnings) == []
        [received] = server.received
    report = tmp_path / "reports" / "data-health-20261005T070000Z.html"
    assert report.is_file() and (tmp_path / "reports" / "latest.html").read_bytes() == report.read_bytes()
    assert received.rcpt_tos == ["data@example.com"]
    assert [p.get_filename() for p in received.message.iter_attachments()] == [report.name]


def test_a_tier_without_report_renders_nothing(tmp_path: Path, smtp_server: SmtpStarter) -> None:
    with smtp_server() as server:
        project = _project(tmp_path, server.port)
        summary = run_monitor(project, tier="frequent", as_of=AS_OF)
        assert _report_warnings(summary.warnings) == [] and server.received == []
    assert not (tmp_path / "reports" / "latest.html").exists()


def test_an_email_that_failed_in_one_run_goes_out_with_the_next(
    tmp_path: Path, smtp_server: SmtpStarter
) -> None:
    port = free_port()
    project = _project(tmp_path, port)
    first = run_monitor(project, as_of=AS_OF, options=RunOptions(report=True, email=True))
    [warning] = _report_warnings(first.warnings)
    assert "SMTP delivery failed" in warning and "kept pending" in warning
    [waiting] = _pending(project)
    with smtp_server(port=port) as server:
        second = run_monitor(
            project, as_of=AS_OF.replace(hour=8), options=RunOptions(report=True, email=True)
        )
        assert _report_warnings(second.warnings) == []
        received = server.received
    assert len(received) == 2
    assert received[0].message["Message-ID"] == waiting.payload["message_id"]  # oldest first
    assert (
        "05 Oct 2026 07:00" not in received[1].message["Subject"]
        and "08:00" in received[1].message["Subject"]
    )


def _pending(project: Project) -> list[deliveries.Delivery]:
    from datahealth.store import HistoryStore

    store = HistoryStore.open(project.config.history.url, project.root)
    try:
        return deliveries.pending(store, "email")
    finally:
        store.close()


def test_the_publisher_records_the_report_as_an_artifact(tmp_path: Path) -> None:
    project = _project(tmp_path, base_url="https://health.example.com/reports")
    run = MonitorRun.plan(project, as_of=AS_OF, options=RunOptions(publish=False))
    try:
        catalogs = {name: run.describe(name, members) for name, members in run.by_source().items()}
        results = [run.monitor(d, catalogs[d.source][d.name]) for d in run.datasets]
        summary = run.finish(results)
        assert run.evaluation is not None
        context = PublishContext(
            project=project,
            store=run.store,
            run_id=run.run_id,
            as_of=run.as_of,
            datasets=run.datasets,
            results=results,
            evaluation=run.evaluation,
            summary=summary,
            options=RunOptions(report=True),
        )
        publish_report(context)
    finally:
        run.close()
    name = "data-health-20261005T070000Z.html"
    assert context.artifacts == {
        "report": str(tmp_path / "reports" / name),
        "report_latest": str(tmp_path / "reports" / "latest.html"),
        "report_url": f"https://health.example.com/reports/{name}",
    }
    html = Path(context.artifacts["report"]).read_text()
    assert f"<code>{run.run_id}</code>" in html and "warehouse.orders" in html
