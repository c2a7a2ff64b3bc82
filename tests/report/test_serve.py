"""`datahealth serve-report`: the reports directory over loopback HTTP, stopped cleanly by SIGTERM."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from datahealth.report.serve import serve_reports
from tests.support.ports import free_port
from tests.support.projects import write_project

DATAHEALTH = str(Path(sys.executable).with_name("datahealth"))


def test_serves_report_files_and_nothing_outside_the_directory(tmp_path: Path) -> None:
    reports = tmp_path / "reports"
    (reports / "2026-10-05").mkdir(parents=True)
    (reports / "2026-10-05" / "report.html").write_text("<h1>Data health</h1>")
    (tmp_path / "secret.txt").write_text("not for the web")
    with serve_reports(reports, port=0) as server:
        base = f"http://127.0.0.1:{server.server_port}"
        with urllib.request.urlopen(f"{base}/2026-10-05/report.html", timeout=10) as response:
            assert response.status == 200 and response.read() == b"<h1>Data health</h1>"
        with pytest.raises(urllib.error.HTTPError) as missing:
            urllib.request.urlopen(f"{base}/../secret.txt", timeout=10)
        assert missing.value.code == 404


def test_the_command_serves_the_projects_reports_until_terminated(tmp_path: Path) -> None:
    root = write_project(tmp_path, {}, {}, publish={"report": {"directory": "out/reports"}})
    (root / "out" / "reports").mkdir(parents=True)
    (root / "out" / "reports" / "index.html").write_text("latest")
    port = free_port()
    process = subprocess.Popen(
        [DATAHEALTH, "serve-report", "-p", str(root), "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/index.html", timeout=5) as response:
                    assert response.read() == b"latest"
                    break
            except urllib.error.URLError:
                assert process.poll() is None, process.communicate()
                assert time.monotonic() < deadline, "serve-report never answered"
                time.sleep(0.2)
    finally:
        process.send_signal(signal.SIGTERM)
        _, stderr = process.communicate(timeout=30)
    assert process.returncode == 0, stderr
    assert f"on http://127.0.0.1:{port}/" in stderr
