"""The report publisher in a real monitoring run: rendered when the tier or the run asks, recorded as an
artifact and handed to the publishers after it; its test checks the report directory takes files."""

from __future__ import annotations

from pathlib import Path

from datahealth.core.run import RunOptions
from datahealth.monitor.runner import MonitorRun, run_monitor
from datahealth.publish.base import Delivery
from datahealth.publish.context import PublishContext
from datahealth.publish.report import ReportPublisher
from tests.publish.runs import AS_OF, orders_project, warnings_of
from tests.support.smtp import SmtpStarter


def test_a_tier_with_report_true_renders_it(tmp_path: Path) -> None:
    project = orders_project(tmp_path)
    summary = run_monitor(project, tier="daily", as_of=AS_OF)
    assert warnings_of("report", summary.warnings) == []
    report = tmp_path / "reports" / "data-health-20261005T070000Z.html"
    assert report.is_file() and (tmp_path / "reports" / "latest.html").read_bytes() == report.read_bytes()


def test_a_tier_without_report_renders_nothing(tmp_path: Path, smtp_server: SmtpStarter) -> None:
    with smtp_server() as server:
        project = orders_project(tmp_path, server.port)
        summary = run_monitor(project, tier="frequent", as_of=AS_OF)
        assert warnings_of("report", summary.warnings) == warnings_of("email", summary.warnings) == []
        assert server.received == []
    assert not (tmp_path / "reports" / "latest.html").exists()


def test_the_publisher_records_the_report_as_an_artifact(tmp_path: Path) -> None:
    project = orders_project(tmp_path, base_url="https://health.example.com/reports")
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
        ReportPublisher().publish(context)
    finally:
        run.close()
    name = "data-health-20261005T070000Z.html"
    assert (
        context.report is not None and context.report.files.path.name == "data-health-20261005T070000Z.html"
    )
    assert context.artifacts == {
        "report": str(tmp_path / "reports" / name),
        "report_latest": str(tmp_path / "reports" / "latest.html"),
        "report_url": f"https://health.example.com/reports/{name}",
    }
    html = Path(context.artifacts["report"]).read_text()
    assert f"<code>{run.run_id}</code>" in html and "warehouse.orders" in html


def test_the_report_test_says_whether_the_directory_takes_files(tmp_path: Path) -> None:
    project = orders_project(tmp_path)
    result = ReportPublisher().send_test(project)
    assert result.delivery == Delivery.SENT and str(tmp_path / "reports") in result.message
    assert [p.name for p in (tmp_path / "reports").iterdir()] == []  # the probe file is gone again
    (tmp_path / "reports").rmdir()
    (tmp_path / "reports").write_text("a file where the report directory should be")
    result = ReportPublisher().send_test(project)
    assert result.delivery == Delivery.FAILED and "cannot write reports to" in result.message
