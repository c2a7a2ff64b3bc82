"""The rendered files: one self-contained page, every data value escaped, samples only where shared."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

from datahealth.config import load_project
from datahealth.report import render_email, render_project_report
from datahealth.report.axis import TimeAxis
from datahealth.report.data import DatasetHistory, DatasetView, ReportData
from datahealth.report.payload import pack, script_json, unpack, unpack_page
from datahealth.report.render import LATEST, report_filename, report_url, write_report
from datahealth.rules.findings import Incident, IncidentStatus
from tests.report.history import (
    AS_OF,
    CUSTOMERS,
    HOSTILE_COLUMN,
    HOSTILE_DATASET,
    HOSTILE_OWNER,
    HOSTILE_VALUE,
    ORDERS,
    PII_EMAIL,
    SECRET,
    History,
)

_DATA_SCRIPT = re.compile(r'<script type="application/octet-stream" id="dh-data"[^>]*>(.*?)</script>', re.S)


def _page(history: History) -> tuple[str, Path]:
    """The page as the browser works with it: its packed data and plotly.js inflated."""
    built = render_project_report(history.project, history.store)
    return unpack_page(built.files.path.read_text(encoding="utf-8")), built.files.path


def test_writes_the_timestamped_file_and_latest(history: History) -> None:
    built = render_project_report(history.project, history.store)
    assert built.files.path == history.project.root / "reports" / report_filename(AS_OF)
    assert built.files.path.name == "data-health-20261010T070000Z.html"
    assert built.files.latest == history.project.root / "reports" / LATEST
    assert built.files.latest.read_bytes() == built.files.path.read_bytes()
    assert built.files.size == built.files.path.stat().st_size

    single = history.project.root / "elsewhere" / "health.html"
    only = render_project_report(history.project, history.store, output=single)
    assert only.files.path == single and only.files.latest is None and single.is_file()


def test_the_page_is_self_contained_with_plotly_inlined_once(history: History) -> None:
    html, _ = _page(history)
    assert html.count("* plotly.js (datahealth partial bundle") == 1
    assert len(re.findall(r"<script\b", html)) == 3  # data, plotly.js, report.js — nothing injected
    markup = re.sub(r"<script\b.*?</script>", "", html, flags=re.S)  # plotly.js mentions its website
    assert not re.search(r'(src|href)="(https?:)?//', markup)
    assert "<link" not in markup


def test_data_and_plotly_are_packed_small_and_inert(history: History) -> None:
    built = render_project_report(history.project, history.store)
    html = built.files.path.read_text(encoding="utf-8")
    packed = re.findall(r'<script [^>]*data-encoding="gzip\+base64"[^>]*>(.*?)</script>', html, re.S)
    assert len(packed) == 2 and all(re.fullmatch(r"[A-Za-z0-9+/=]+", p) for p in packed)
    assert unpack(packed[1]).startswith("/**\n* plotly.js (datahealth partial bundle: scatter, bar, heatmap")
    assert built.files.size < 800_000  # the full plotly.js bundle alone was 4.8 MB
    assert unpack(pack("ä <b> \u2028")) == "ä <b> \u2028"


def test_every_data_value_and_column_name_is_escaped(history: History) -> None:
    html, _ = _page(history)
    for hostile in (
        HOSTILE_COLUMN,
        HOSTILE_VALUE,
        HOSTILE_DATASET,
        HOSTILE_OWNER,
        "<b>loaded</b>",
        "<health>",
    ):
        assert hostile not in html, hostile
    assert "warehouse.&lt;svg/onload=window.__pwned=3&gt;" in html
    assert "&lt;i class=&#34;dh-injected&#34;&gt;team&lt;/i&gt;" in html
    assert "Test &lt;health&gt; report" in html
    assert "<svg/onload" not in html and "</script><script>window.__pwned" not in html


def test_embedded_json_cannot_close_its_script_element(history: History) -> None:
    html, _ = _page(history)
    match = _DATA_SCRIPT.search(html)
    assert match is not None
    raw = match.group(1)
    assert "<" not in raw and ">" not in raw
    payload = json.loads(raw)
    assert payload["ds"][HOSTILE_DATASET]["d"] == HOSTILE_VALUE
    assert HOSTILE_COLUMN in payload["ds"][ORDERS]["nc"]
    encoded = script_json({"x": "</script><!-- \u2028 & >"})
    assert (
        json.loads(encoded) == {"x": "</script><!-- \u2028 & >"}
        and "<" not in encoded
        and "\u2028" not in encoded
    )


def test_checks_carry_failing_row_counts_and_no_row_values(history: History) -> None:
    html, _ = _page(history)
    payload = json.loads(_DATA_SCRIPT.search(html).group(1))  # type: ignore[union-attr]
    for name in (ORDERS, CUSTOMERS):
        check = payload["ds"][name]["cl"][0]
        assert len(check) == 8 and check[7] == 3  # name … failing rows: no sample columns or rows
    assert PII_EMAIL not in html


def test_no_secret_reaches_the_page(history: History) -> None:
    html, _ = _page(history)
    assert SECRET not in html


def test_project_templates_override_the_shipped_ones(history: History) -> None:
    templates = history.project.root / "reports" / "templates"
    templates.mkdir(parents=True)
    (templates / "report.html").write_text(
        '{% extends "report_base.html" %}{% block extra_head %}<meta name="dh-custom" content="{{ data.title }}">'
        "{% endblock %}"
    )
    html, _ = _page(history)
    assert '<meta name="dh-custom" content="Test &lt;health&gt; report">' in html  # still autoescaped


def test_report_url_links_to_a_dataset_when_served(tmp_path: Path, history: History) -> None:
    config = history.project.config.publish.report
    assert report_url(config) is None
    served = config.model_copy(update={"base_url": "https://health.example.com/reports/"})
    assert report_url(served) == "https://health.example.com/reports/latest.html"
    assert report_url(served, "lake.a b") == "https://health.example.com/reports/latest.html#ds=lake.a%20b"


def test_email_bodies_are_email_safe_and_escaped(history: History) -> None:
    built = render_project_report(history.project, history.store)
    html, text = render_email(built.data, report_name=built.files.path.name)
    assert "<script" not in html.lower() and "<style" not in html.lower() and "<link" not in html.lower()
    assert 'style="' in html and "#c62828" in html  # inline CSS with status colours
    assert HOSTILE_VALUE not in html and HOSTILE_DATASET not in html and SECRET not in html + text
    assert "warehouse.&lt;svg/onload=window.__pwned=3&gt;" in html
    assert "check missing email failed" in html and f"[error] {ORDERS}: check missing email failed" in text
    assert PII_EMAIL not in html
    assert "fail: 3" in text and "unknown: 2" in text and f"[error] {ORDERS}" in text
    assert HOSTILE_DATASET in text  # plain text is not HTML: shown as is
    assert len(html.encode()) < 100_000


def test_email_body_stays_small_with_a_thousand_failing_datasets(history: History) -> None:
    project = load_project(history.project.root)
    config = project.datasets[0]
    now = datetime(2026, 10, 10, tzinfo=UTC)
    views = [
        DatasetView(
            config.model_copy(update={"name": f"warehouse.t{i:04d}"}),
            "fail",
            DatasetHistory([], [], []),
            error="x" * 5000,
        )
        for i in range(1000)
    ]
    incidents = [
        Incident(
            i,
            f"fp{i}",
            f"warehouse.t{i:04d}",
            "check",
            "c",
            "error",
            IncidentStatus.OPEN,
            "t" * 5000,
            "",
            now,
            now,
            now,
        )
        for i in range(1000)
    ]
    data = ReportData(
        "big", "p", now, now, now - timedelta(days=30), TimeAxis(), views, incidents, None, [], []
    )
    html, text = render_email(data)
    assert len(html.encode()) < 100_000 and len(text.encode()) < 100_000
    assert "and 990 more" in html


def test_old_reports_are_pruned_to_keep_and_latest_stays_one_copy(tmp_path: Path) -> None:
    start = datetime(2026, 10, 1, 7, tzinfo=UTC)
    (tmp_path / "notes.html").write_text("mine")
    for day in range(5):
        write_report(f"<p>{day}</p>", tmp_path, start + timedelta(days=day), keep=3)
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == [
        "data-health-20261003T070000Z.html",
        "data-health-20261004T070000Z.html",
        "data-health-20261005T070000Z.html",
        "latest.html",
        "notes.html",
    ]
    assert (tmp_path / "latest.html").read_text() == "<p>4</p>"
    back_dated = write_report("<p>old</p>", tmp_path, start, keep=3)
    assert back_dated.path.is_file()  # the report just asked for is never the one pruned
    write_report("<p>all</p>", tmp_path, start + timedelta(days=9), keep=0)
    assert len(list(tmp_path.glob("data-health-*.html"))) == 5
