"""`datahealth report [--email] [--output PATH]` and the demo's report."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from datahealth.cli import app
from tests.conftest import REPO_ROOT
from tests.report.conftest import open_report
from tests.report.history import History
from tests.support.smtp import SmtpStarter

runner = CliRunner()


def _set_email(history: History, **settings: Any) -> None:
    path = history.project.root / "sla_config" / "project.yaml"
    config = yaml.safe_load(path.read_text())
    config["publish"]["email"].update(settings)
    path.write_text(yaml.safe_dump(config))


def test_report_command_writes_the_report(history: History) -> None:
    result = runner.invoke(app, ["report", "-p", str(history.project.root)])
    assert result.exit_code == 0, result.output
    latest = history.project.root / "reports" / "latest.html"
    assert f"Report: {latest}" in result.output.replace("\n", "") and latest.is_file()
    assert (history.project.root / "reports" / "data-health-20261010T070000Z.html").is_file()


def test_report_command_output_and_as_of(history: History, tmp_path: Path) -> None:
    target = tmp_path / "out" / "health.html"
    result = runner.invoke(
        app, ["report", "-p", str(history.project.root), "-o", str(target), "--as-of", "2026-10-03T08:00Z"]
    )
    assert result.exit_code == 0, result.output
    html = target.read_text()
    assert "as of <strong>2026-10-03 08:00 UTC</strong>" in html
    assert not (history.project.root / "reports" / "latest.html").exists()


def test_report_command_emails_it(history: History, smtp_server: SmtpStarter) -> None:
    with smtp_server() as server:
        _set_email(history, smtp_host=server.host, smtp_port=server.port, security="none")
        result = runner.invoke(app, ["report", "-p", str(history.project.root), "--email"])
        assert result.exit_code == 0, result.output
        assert "Emailed 1 report email." in result.output and len(server.received) == 1


def test_report_command_email_without_smtp_fails_clearly(history: History) -> None:
    result = runner.invoke(app, ["report", "-p", str(history.project.root), "--email"])
    assert result.exit_code == 1
    assert "smtp_host is not set" in result.output


@pytest.mark.slow
def test_the_demo_writes_and_prints_its_report(tmp_path: Path, chromium: Any) -> None:
    """`datahealth demo` on a copy of the repository's demo project; its report opens cleanly in Chromium."""
    for folder in ("sla_config", "checks"):
        if (REPO_ROOT / folder).is_dir():
            shutil.copytree(REPO_ROOT / folder, tmp_path / folder)
    command = [
        str(Path(sys.executable).with_name("datahealth")),
        "demo",
        "--no-prefect",
        "--days",
        "5",
        "-p",
        str(tmp_path),
    ]
    env = {**os.environ, "COLUMNS": "200", "DATAHEALTH_SMTP_HOST": ""}
    done = subprocess.run(command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    latest = tmp_path / "reports" / "latest.html"
    assert f"Report: {latest}" in done.stdout and latest.is_file()
    with open_report(chromium, latest, "#ds=warehouse.customers") as loaded:
        page = loaded.page
        page.wait_for_selector('#detail[data-ready="warehouse.customers"]')
        assert loaded.console_errors == []
        assert page.locator("#health-chart .main-svg").count() >= 1
        assert page.locator("#chart-rows .main-svg").count() >= 1
        assert page.locator("#dataset-table tbody tr").count() == 7  # 4 tables, 2 lake datasets, 1 topic
        assert (
            page.evaluate("document.getElementById('health-chart').data[0].x.length") == 5
        )  # five simulated days


def test_report_email_dry_run_writes_the_message_without_sending(history: History, tmp_path: Path) -> None:
    from email import message_from_bytes, policy

    from datahealth.store import deliveries

    out = tmp_path / "out"
    out.mkdir()
    result = runner.invoke(
        app, ["report", "-p", str(history.project.root), "--email", "--dry-run", "-o", str(out)]
    )
    assert result.exit_code == 0, result.output
    [eml] = out.glob("*.eml")
    assert eml.name == "data-health-20261010T070000Z.eml" and "not sent" in result.output
    message = message_from_bytes(eml.read_bytes(), policy=policy.default)
    assert "3 fail" in message["Subject"] and "data@example.com" in message["To"]
    assert [p.get_filename() for p in message.iter_attachments()] == ["data-health-20261010T070000Z.html"]
    assert deliveries.pending(history.store, "email") == []  # nothing queued either
