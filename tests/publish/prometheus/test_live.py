"""The demo platform monitored into a real Pushgateway, scraped by a real Prometheus evaluating our rules.

Proves that every query in the Grafana dashboard and every alert rule expression returns data from what a
real run publishes, through both ways in (the Pushgateway, and a `datahealth serve-metrics` process),
and that the exporter's output passes `promtool check metrics`. Polls with deadlines, never sleeps.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from datahealth.config import load_project
from datahealth.core.run import RunSummary
from datahealth.demo.platform import DemoPlatform
from datahealth.monitor.runner import run_monitor
from tests.support.ports import free_port, wait_for_port
from tests.support.prometheus import (
    PrometheusApi,
    PrometheusStarter,
    Promtool,
    PushgatewayStarter,
    Service,
    http_get,
    labels,
    parse_samples,
)

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[3]
RULES = REPO / "deploy" / "prometheus" / "rules.yml"
DASHBOARD = REPO / "deploy" / "grafana" / "dashboards" / "datahealth.json"
DEMO_DAYS = 28  # every demo fault (days 18-27) is in the data
ABSENT_RULE = "DatahealthMetricsAbsent"
MISSING_DATASET = "warehouse.refunds"  # configured, but the table does not exist: an error dataset


def _grafana_to_promql(expr: str) -> str:
    """What Grafana sends with "All" selected for the multi-value variables (allValue `.*`)."""
    return re.sub(r"\$\{?(source|dataset)\}?", ".*", expr)


def dashboard_queries() -> list[tuple[str, str]]:
    dashboard = json.loads(DASHBOARD.read_text())
    return [
        (f"{panel['title']} [{target['refId']}]", _grafana_to_promql(target["expr"]))
        for panel in dashboard["panels"]
        for target in panel.get("targets", [])
    ]


def variable_queries() -> list[tuple[str, str, str]]:
    """(variable, series selector, label) for every `label_values(selector, label)` template variable."""
    dashboard = json.loads(DASHBOARD.read_text())
    result = []
    for variable in dashboard["templating"]["list"]:
        if variable["type"] != "query":
            continue
        match = re.fullmatch(r"label_values\((.+),\s*(\w+)\)", variable["definition"])
        assert match, f"variable {variable['name']}: unexpected query {variable['definition']!r}"
        result.append((variable["name"], _grafana_to_promql(match.group(1)), match.group(2)))
    return result


def alert_rules() -> list[tuple[str, str]]:
    groups = yaml.safe_load(RULES.read_text())["groups"]
    return [(rule["alert"], rule["expr"]) for group in groups for rule in group["rules"] if "alert" in rule]


@dataclass
class DemoRun:
    root: Path
    gateway: Service
    api: PrometheusApi
    summary: RunSummary
    absent_before_run: list[dict[str, Any]]
    alerts_before_run: dict[str, list[dict[str, Any]]]


def demo_project(root: Path) -> Path:
    """The repository's demo project (sla_config/ and checks/), stale after 1 s, plus one missing table."""
    shutil.copytree(REPO / "sla_config", root / "sla_config")
    if (REPO / "checks").is_dir():
        shutil.copytree(REPO / "checks", root / "checks")
    project_file = root / "sla_config" / "project.yaml"
    config = yaml.safe_load(project_file.read_text())
    config["publish"]["prometheus"]["stale_after"] = "1s"  # so the monitor-stale alert fires within the test
    project_file.write_text(yaml.safe_dump(config, sort_keys=False))
    datasets_file = root / "sla_config" / "datasets.yaml"
    datasets = yaml.safe_load(datasets_file.read_text())
    datasets["datasets"][MISSING_DATASET] = {"table": "main.refunds", "sla": {"error_after": "2d"}}
    datasets_file.write_text(yaml.safe_dump(datasets, sort_keys=False))
    platform = DemoPlatform(root / "demo", scale=0.05)
    platform.reset()
    for day in range(DEMO_DAYS):
        platform.append_day(day)
    return root


@pytest.fixture(scope="module")
def demo(
    tmp_path_factory: pytest.TempPathFactory, pushgateway: PushgatewayStarter, prometheus: PrometheusStarter
) -> Iterator[DemoRun]:
    tmp = tmp_path_factory.mktemp("prometheus-live")
    with (
        pushgateway(tmp / "pushgateway") as gateway,
        prometheus(tmp / "prometheus", [gateway.address], rule_files=[RULES]) as api,
    ):
        root = demo_project(tmp / "project")
        # before anything is pushed, only the "metrics absent" alert has data
        absent_expr = dict(alert_rules())[ABSENT_RULE]
        absent = api.wait_for("absent() before the first push", lambda: api.query(absent_expr))
        api.wait_for(
            "Prometheus scraping the Pushgateway", lambda: api.query('up{job="datahealth-test"} == 1')
        )
        alerts_before = {name: api.query(expr) for name, expr in alert_rules()}
        # the demo, monitored now: its data stopped on the last simulated day, weeks ago
        # the demo config pushes when DATAHEALTH_PUSHGATEWAY_URL is set, as `make demo` does
        project = load_project(root, environ={**os.environ, "DATAHEALTH_PUSHGATEWAY_URL": gateway.url})
        assert project.config.publish.prometheus.pushgateway_url == gateway.url
        summary = run_monitor(project)
        yield DemoRun(root, gateway, api, summary, absent, alerts_before)


def test_the_run_published_without_warnings(demo: DemoRun) -> None:
    assert [w for w in demo.summary.warnings if w.startswith("prometheus")] == []
    assert {d.dataset for d in demo.summary.errored} == {MISSING_DATASET}
    textfile = parse_samples((demo.root / "reports" / "datahealth.prom").read_text())  # written as well
    assert (
        textfile[("datahealth_dataset_rows", labels(source="warehouse", dataset="warehouse.products"))] == 200
    )


def test_before_the_first_push_only_the_absent_alert_has_data(demo: DemoRun) -> None:
    assert demo.absent_before_run
    assert {name for name, result in demo.alerts_before_run.items() if result} == {ABSENT_RULE}


@pytest.mark.parametrize(
    ("panel", "expr"), dashboard_queries(), ids=[title for title, _ in dashboard_queries()]
)
def test_every_dashboard_query_returns_data(demo: DemoRun, panel: str, expr: str) -> None:
    demo.api.wait_for(f"panel {panel}: {expr}", lambda: demo.api.query(expr))


@pytest.mark.parametrize(("variable", "selector", "label"), variable_queries())
def test_every_template_variable_has_values(demo: DemoRun, variable: str, selector: str, label: str) -> None:
    series = demo.api.wait_for(f"variable {variable}", lambda: demo.api.series(selector))
    values = {s[label] for s in series if label in s}
    expected = {"source": {"warehouse", "lake"}, "dataset": {"warehouse.customers", "lake.clickstream"}}[
        variable
    ]
    assert expected <= values


@pytest.mark.parametrize(
    ("alert", "expr"),
    [r for r in alert_rules() if r[0] != ABSENT_RULE],
    ids=[name for name, _ in alert_rules() if name != ABSENT_RULE],
)
def test_every_alert_expression_returns_data(demo: DemoRun, alert: str, expr: str) -> None:
    demo.api.wait_for(f"alert {alert}: {expr}", lambda: demo.api.query(expr))


def test_the_rules_evaluate_cleanly_and_every_alert_but_absent_is_active(demo: DemoRun) -> None:
    def active() -> dict[str, str] | None:
        rules = {rule["name"]: rule for rule in demo.api.rules()}
        if any(rule["health"] != "ok" for rule in rules.values()):
            raise AssertionError({n: r.get("lastError") for n, r in rules.items() if r["health"] != "ok"})
        states = {name: rule["state"] for name, rule in rules.items()}
        wanted = all(state != "inactive" for name, state in states.items() if name != ABSENT_RULE)
        return states if wanted and states[ABSENT_RULE] == "inactive" else None

    states = demo.api.wait_for("every alert but absent pending or firing", active)
    assert set(states) == {name for name, _ in alert_rules()}


def test_what_prometheus_holds_matches_the_demo(demo: DemoRun) -> None:
    api = demo.api

    def value(expr: str) -> float:
        result = api.wait_for(expr, lambda: api.query(expr))
        assert len(result) == 1, result
        return float(result[0]["value"][1])

    assert value('datahealth_dataset_rows{dataset="warehouse.products"}') == 200  # the catalogue at any scale
    assert value(f'datahealth_dataset_status{{dataset="{MISSING_DATASET}"}}') == 3
    assert value("datahealth_run_datasets_failed") == 1
    assert (
        value("datahealth_run_datasets_observed") == 8
    )  # 6 tables and files, the clickstream topic, 1 missing
    # pushed under job="datahealth" with no instance label; the clickstream stopped weeks ago: breached SLA
    series = api.series('datahealth_dataset_status{dataset="lake.clickstream"}')
    assert [(s["job"], s.get("instance")) for s in series] == [("datahealth", None)]
    assert (
        value(
            '(time() - datahealth_dataset_last_updated_timestamp_seconds{dataset="lake.clickstream"}) / 86400'
        )
        > 20
    )
    # failing checks: the duplicated customers (day 22) and the null customer_ids (day 18)
    failing = api.wait_for("failing checks", lambda: api.query("datahealth_check_status >= 2"))
    assert {"warehouse.customers", "warehouse.email_events"} <= {r["metric"]["dataset"] for r in failing}
    # the demo's topic: at this scale the loader had processed every recorded click (a click a minute, it
    # is 20 s behind), so both lag series are there and zero
    assert value('datahealth_stream_lag_messages{dataset="stream.clickstream"}') == 0
    assert value('datahealth_stream_lag_seconds{dataset="stream.clickstream"}') == 0


@pytest.fixture(scope="module")
def exporter(demo: DemoRun, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """`datahealth serve-metrics` as its own process, over the demo's history store."""
    port = free_port()
    log = tmp_path_factory.mktemp("exporter") / "serve-metrics.log"
    with log.open("wb") as handle:
        process = subprocess.Popen(
            [sys.executable, "-m", "datahealth", "serve-metrics", "-p", str(demo.root), "--port", str(port)],
            stdout=handle,
            stderr=subprocess.STDOUT,
            env={**os.environ, "DATAHEALTH_PUSHGATEWAY_URL": ""},
        )
    try:
        wait_for_port(port, timeout=60)
        yield f"127.0.0.1:{port}"
    finally:
        process.send_signal(signal.SIGTERM)
        returncode = process.wait(timeout=30)
        assert returncode == 0, log.read_text()


def test_serve_metrics_passes_promtool_and_agrees_with_the_push(
    demo: DemoRun, exporter: str, promtool: Promtool
) -> None:
    status, body = http_get(f"http://{exporter}/metrics")
    assert status == 200
    checked = promtool("check", "metrics", stdin=body)
    assert checked.returncode == 0, checked.stdout.decode() + checked.stderr.decode()
    served = parse_samples(body)
    _, pushed_body = demo.gateway.get("/metrics")
    pushed = parse_samples(pushed_body, drop=("job", "instance"))
    for name in (
        "datahealth_dataset_rows",
        "datahealth_dataset_status",
        "datahealth_check_status",
        "datahealth_freshness_sla_seconds",
        "datahealth_incidents_open",
    ):
        ours = {k: v for k, v in served.items() if k[0] == name}
        assert ours and ours == {k: v for k, v in pushed.items() if k[0] == name}, name
    key = labels(source="warehouse", dataset="warehouse.products")
    assert served[("datahealth_dataset_rows", key)] == 200


def test_every_query_and_alert_works_when_prometheus_scrapes_the_exporter(
    demo: DemoRun, exporter: str, tmp_path: Path, prometheus: PrometheusStarter
) -> None:
    with prometheus(tmp_path / "prometheus", [exporter], rule_files=[RULES], honor_labels=False) as api:
        for panel, expr in dashboard_queries():
            api.wait_for(f"panel {panel}: {expr}", lambda expr=expr: api.query(expr))  # type: ignore[misc]
        for alert, expr in alert_rules():
            if alert != ABSENT_RULE:
                api.wait_for(f"alert {alert}: {expr}", lambda expr=expr: api.query(expr))  # type: ignore[misc]
        assert api.query(dict(alert_rules())[ABSENT_RULE]) == []
