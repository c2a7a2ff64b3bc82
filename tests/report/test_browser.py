"""The report in a real headless Chromium: loads offline without console errors, draws its charts,
shows hostile names and values as text, and its table sorts and filters."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest

from datahealth.report import render_project_report
from tests.report.conftest import open_report
from tests.report.history import (
    BROKEN,
    CUSTOMERS,
    HOSTILE_DATASET,
    ORDERS,
    PII_EMAIL,
    QUIET,
    History,
    write_report_project,
)


def _plotted(page: Any, selector: str) -> list[str]:
    """The trace names plotly drew into `selector` (empty when no chart is there)."""
    return page.evaluate(
        """(sel) => { const node = document.querySelector(sel);
                      if (!node || !node.querySelector('.main-svg') || !node.data) return [];
                      return node.data.map(t => t.name || t.type); }""",
        selector,
    )


def _not_injected(page: Any) -> None:
    assert page.evaluate("typeof window.__pwned") == "undefined"
    assert page.locator(".dh-injected").count() == 0
    assert page.locator("#detail svg[onload], #detail img").count() == 0


@pytest.fixture
def report(history: History) -> Path:
    return render_project_report(history.project, history.store).files.path


def test_loads_offline_without_errors_and_draws_the_overview(report: Path, chromium: Any) -> None:
    with open_report(chromium, report) as loaded:
        page = loaded.page
        assert loaded.console_errors == []
        assert all(url.startswith(("file:", "data:", "blob:")) for url in loaded.requests), loaded.requests
        assert _plotted(page, "#health-chart") == ["ok", "warn", "fail", "unknown", "health score"]
        assert _plotted(page, "#incident-chart") == ["bar"]
        assert page.locator("#dataset-table tbody tr").count() == 5
        assert page.locator("#detail").is_hidden()
        _not_injected(page)
        rendered = page.locator("#dataset-table").inner_text()
        assert HOSTILE_DATASET in rendered and '<i class="dh-injected">team</i>' in rendered


def test_opening_a_dataset_draws_its_charts_and_shared_samples(report: Path, chromium: Any) -> None:
    with open_report(chromium, report) as loaded:
        page = loaded.page
        page.locator("#dataset-table a", has_text=ORDERS).first.click()
        page.wait_for_selector(f'#detail[data-ready="{ORDERS}"]')
        assert _plotted(page, "#chart-rows") == ["scatter", "expected band", "rows", "anomaly"]
        assert _plotted(page, "#chart-lag") == ["lag", "warn SLA", "error SLA"]
        assert _plotted(page, "#chart-nulls") == ["heatmap"]
        assert _plotted(page, "#chart-checks") == ["heatmap"]
        detail = page.locator("#detail").inner_text()
        assert "type changed" in detail and "coupon" in detail  # schema change log
        assert loaded.console_errors == []
        _not_injected(page)


def test_hostile_dataset_names_are_text(report: Path, chromium: Any) -> None:
    with open_report(chromium, report, "#ds=" + quote(HOSTILE_DATASET, safe="")) as loaded:
        page = loaded.page
        page.wait_for_selector("#detail[data-ready]")
        assert page.locator("#detail .dataset-name").inner_text() == HOSTILE_DATASET
        null_labels = page.evaluate("document.getElementById('chart-nulls').data[0].y")
        assert any(
            label.startswith("&lt;img src=x") for label in null_labels
        )  # escaped for plotly's label markup
        detail = page.locator("#detail").inner_text()
        assert PII_EMAIL not in detail  # no row values anywhere (soda-core returns none)
        page.evaluate("(name) => { location.hash = '#ds=' + encodeURIComponent(name); }", CUSTOMERS)
        page.wait_for_selector(f'#detail[data-ready="{CUSTOMERS}"]')
        assert PII_EMAIL not in page.locator("#detail").inner_text()
        assert loaded.console_errors == []
        _not_injected(page)


def test_the_dataset_table_sorts_and_filters(report: Path, chromium: Any) -> None:
    with open_report(chromium, report) as loaded:
        page = loaded.page

        def visible() -> list[str]:
            return page.evaluate("""() => [...document.querySelectorAll('#dataset-table tbody tr')]
                                    .filter(r => !r.hidden).map(r => r.dataset.name)""")

        assert visible()[0] == BROKEN  # worst first
        page.fill("#dataset-filter", "crm")
        assert visible() == [CUSTOMERS]
        page.fill("#dataset-filter", "")
        page.select_option("#status-filter", "unknown")
        assert visible() == [BROKEN, QUIET]  # could not be observed; never observed
        assert page.locator("#dataset-count").inner_text() == "2 of 5 datasets"
        page.select_option("#status-filter", "")
        page.click("th[data-sort=name]")
        names = visible()
        assert names == sorted(names)
        page.click("th[data-sort=rows]")
        rows = page.evaluate("""() => [...document.querySelectorAll('#dataset-table tbody tr')]
                                .map(r => r.dataset.rows).filter(v => v !== '').map(Number)""")
        assert rows == sorted(rows, reverse=True)


def test_a_report_before_any_run_opens_cleanly(tmp_path: Path, chromium: Any) -> None:
    from datahealth.store import HistoryStore

    project = write_report_project(tmp_path)
    store = HistoryStore.open(project.config.history.url, project.root)
    try:
        path = render_project_report(project, store).files.path
    finally:
        store.close()
    with open_report(chromium, path, "#ds=__proto__") as loaded:
        page = loaded.page
        assert loaded.console_errors == []
        assert "No runs recorded" in page.locator("#health-chart").inner_text()
        assert page.locator("#dataset-table tbody tr").count() == 5
        assert page.locator("#detail").is_hidden()  # an unknown dataset in the link opens nothing
        page.evaluate("(name) => { location.hash = '#ds=' + encodeURIComponent(name); }", ORDERS)
        page.wait_for_selector(f'#detail[data-ready="{ORDERS}"]')
        assert "No row counts recorded" in page.locator("#detail").inner_text()
        assert loaded.console_errors == []


_CLIPPED = """() => {
  const width = document.documentElement.clientWidth, clipped = [];
  for (const el of document.body.querySelectorAll("*")) {
    const box = el.getBoundingClientRect();
    if (!box.width && !box.height) continue;
    const name = el.tagName + ":" + (el.textContent || "").trim().slice(0, 30);
    if (box.left < -0.5 || box.right > width + 0.5) clipped.push("outside " + name);
    else if (el.scrollWidth > el.clientWidth + 1 && getComputedStyle(el).display !== "inline") clipped.push("overflows " + name);
  }
  return {clipped, scroll: document.documentElement.scrollWidth, width};
}"""


@pytest.mark.parametrize("width", [360, 600])
def test_the_email_fits_narrow_and_wide_mail_clients(history: History, chromium: Any, width: int) -> None:
    from datahealth.report import render_email
    from datahealth.report.data import gather_report_data

    data = gather_report_data(history.project, history.store)
    html, _ = render_email(data, report_name="data-health-20261010T070000Z.html")
    page = chromium.new_page(viewport={"width": width, "height": 900}, java_script_enabled=True)
    try:
        page.set_content(html)
        result = page.evaluate(_CLIPPED)
        assert result["scroll"] <= width and result["clipped"] == [], result
        body = page.locator("body").inner_text()
        assert "since" in body and "problem" in body and "open incidents" in body
    finally:
        page.close()


def test_a_straight_growth_line_gets_the_detectors_band_and_no_marker(tmp_path: Path, chromium: Any) -> None:
    """The band is the range the volume detector judged each run against (recorded by the run), and a
    point is marked only where the detector raised a finding: a perfectly even growth gets none."""
    import duckdb

    from datahealth.config import load_project
    from datahealth.core.run import RunOptions
    from datahealth.monitor.runner import run_monitor
    from tests.reliability.world import DUCKDB_WAREHOUSE, keyed_table, open_store, write_monitoring_project

    day0 = datetime(2026, 10, 1, 6, 0, tzinfo=UTC)
    root = write_monitoring_project(tmp_path, DUCKDB_WAREHOUSE, {"wh.growing": keyed_table()})
    project = load_project(root)
    for day in range(12):
        with duckdb.connect(str(root / "wh.duckdb")) as con:
            con.execute("CREATE TABLE IF NOT EXISTS growing (id INTEGER PRIMARY KEY, updated_at TIMESTAMP)")
            con.execute(
                "INSERT INTO growing SELECT range + ?, ?::TIMESTAMP FROM range(100)",
                [day * 100, (day0 + timedelta(days=day, hours=-1)).replace(tzinfo=None)],
            )
        at = day0 + timedelta(days=day)
        run_monitor(project, as_of=at, options=RunOptions(profile=False, checks=False, publish=False))
    store = open_store(root)
    try:
        report = render_project_report(project, store).files.path
    finally:
        store.close()
    with open_report(chromium, report, "#ds=wh.growing") as loaded:
        page = loaded.page
        page.wait_for_selector('#detail[data-ready="wh.growing"]')
        assert _plotted(page, "#chart-rows") == ["scatter", "expected band", "rows"]  # no anomaly, no rings
        bands = page.evaluate(
            "() => { const d = document.querySelector('#chart-rows').data;"
            " return d[2].y.map((rows, i) => [d[1].y[i], rows, d[0].y[i]]); }"
        )
        judged = [b for b in bands if b[0] is not None]
        assert len(judged) >= 3  # the detector had learned enough for the later runs
        assert all(low <= rows <= high and high > low for low, rows, high in judged), judged
        assert loaded.console_errors == []


def test_a_deep_link_lands_below_the_header_and_null_ratios_share_one_scale(
    report: Path, chromium: Any
) -> None:
    scales = []
    with open_report(chromium, report, "#ds=" + quote(ORDERS, safe="")) as loaded:
        page = loaded.page
        page.wait_for_selector(f'#detail[data-ready="{ORDERS}"]')
        header_bottom = page.evaluate("document.querySelector('header.top').getBoundingClientRect().bottom")
        detail_top = page.evaluate("document.querySelector('#detail').getBoundingClientRect().top")
        assert page.evaluate("window.scrollY") > 0 and detail_top >= header_bottom
        for name in (ORDERS, CUSTOMERS):
            page.evaluate("(n) => { location.hash = '#ds=' + encodeURIComponent(n); }", name)
            page.wait_for_selector(f'#detail[data-ready="{name}"]')
            scales.append(
                page.evaluate(
                    "() => { const t = document.querySelector('#chart-nulls').data[0];"
                    " return [t.zmin, t.zmax, JSON.stringify(t.colorscale)]; }"
                )
            )
    assert scales[0] == scales[1] and scales[0][:2] == [0, 100]


def test_a_chart_below_the_fold_is_drawn_when_scrolled_near(report: Path, chromium: Any) -> None:
    page = chromium.new_page(viewport={"width": 1300, "height": 300})
    try:
        page.goto(report.resolve().as_uri())
        page.wait_for_function("window.__dh && window.__dh.ready === true", timeout=60_000)
        assert page.evaluate("window.__dh.drawn") == ["health-chart"]
        assert page.evaluate("window.__dh.deferred") == ["incident-chart"]
        assert _plotted(page, "#incident-chart") == []
        page.locator("#incident-chart").scroll_into_view_if_needed()
        page.wait_for_selector("#incident-chart .main-svg", timeout=30_000)
        assert _plotted(page, "#incident-chart") == ["bar"]
        assert page.evaluate("window.__dh.deferred") == []
    finally:
        page.close()
