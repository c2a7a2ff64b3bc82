"""deploy/: the alert rules pass their promtool unit tests, the example config is valid, the dashboard is sound."""

from __future__ import annotations

import json
import re
from pathlib import Path

import yaml

from datahealth.publish.prometheus.metrics import ALL_METRICS
from tests.support.prometheus import Promtool

REPO = Path(__file__).resolve().parents[3]
PROMETHEUS_DIR = REPO / "deploy" / "prometheus"
GRAFANA_DIR = REPO / "deploy" / "grafana"
DASHBOARD = GRAFANA_DIR / "dashboards" / "datahealth.json"
METRIC_NAMES = {spec.name for spec in ALL_METRICS}


def _output(result: object) -> str:
    return result.stdout.decode() + result.stderr.decode()  # type: ignore[attr-defined]


def test_promtool_rule_unit_tests_pass(promtool: Promtool) -> None:
    result = promtool("test", "rules", "rules_test.yml", cwd=PROMETHEUS_DIR)
    assert result.returncode == 0, _output(result)
    assert "SUCCESS" in _output(result)


def test_promtool_rule_unit_tests_can_fail(tmp_path: Path, promtool: Promtool) -> None:
    """The unit tests are sharp: a rule whose threshold is off by one SLA step makes them fail."""
    rules = (PROMETHEUS_DIR / "rules.yml").read_text()
    (tmp_path / "rules.yml").write_text(
        rules.replace("datahealth_check_status >= 2", "datahealth_check_status >= 3")
    )
    (tmp_path / "rules_test.yml").write_text((PROMETHEUS_DIR / "rules_test.yml").read_text())
    result = promtool("test", "rules", "rules_test.yml", cwd=tmp_path)
    assert result.returncode != 0 and "DatahealthCheckFailing" in _output(result)


def test_example_prometheus_config_and_rules_are_valid(promtool: Promtool) -> None:
    result = promtool("check", "config", str(PROMETHEUS_DIR / "prometheus.yml"))
    assert result.returncode == 0, _output(result)
    assert "6 rules found" in _output(result)


def test_every_alert_is_tested_and_uses_only_our_metrics() -> None:
    rules = [
        r for g in yaml.safe_load((PROMETHEUS_DIR / "rules.yml").read_text())["groups"] for r in g["rules"]
    ]
    tests = yaml.safe_load((PROMETHEUS_DIR / "rules_test.yml").read_text())["tests"]
    tested = {case["alertname"] for test in tests for case in test["alert_rule_test"]}
    assert {rule["alert"] for rule in rules} == tested
    for rule in rules:
        used = set(re.findall(r"datahealth_\w+", rule["expr"]))
        assert used and used <= METRIC_NAMES, (rule["alert"], used - METRIC_NAMES)


def test_dashboard_panels_use_the_datasource_variable_and_known_metrics() -> None:
    dashboard = json.loads(DASHBOARD.read_text())
    variables = {v["name"]: v for v in dashboard["templating"]["list"]}
    assert {"datasource", "source", "dataset"} <= set(variables)
    assert variables["source"]["multi"] and variables["source"]["includeAll"]
    assert "$source" in variables["dataset"]["definition"]  # datasets narrow with the chosen sources
    ids = [panel["id"] for panel in dashboard["panels"]]
    assert len(ids) == len(set(ids))
    for panel in dashboard["panels"]:
        assert panel["datasource"]["uid"] == "${datasource}", panel["title"]
        assert panel["targets"], panel["title"]
        for target in panel["targets"]:
            used = set(re.findall(r"datahealth_\w+", target["expr"]))
            assert used and used <= METRIC_NAMES, (panel["title"], target["expr"])
            if any(
                "_run_" not in name for name in used
            ):  # dataset panels follow the source and dataset variables
                assert 'source=~"$source"' in target["expr"] and 'dataset=~"$dataset"' in target["expr"], (
                    target
                )


def test_dashboard_covers_what_the_issue_asks_for() -> None:
    text = DASHBOARD.read_text()
    for metric in (
        "datahealth_dataset_status",
        "datahealth_dataset_health_score",
        "datahealth_dataset_last_updated_timestamp_seconds",
        "datahealth_freshness_sla_seconds",
        "datahealth_dataset_rows",
        "datahealth_check_status",
        "datahealth_incidents_open",
        "datahealth_run_duration_seconds",
        "datahealth_run_last_success_timestamp_seconds",
        "datahealth_stream_lag_seconds",
        "datahealth_stream_lag_messages",
    ):
        assert metric in text, metric


def test_grafana_provisioning_points_at_the_dashboard_and_datasource() -> None:
    datasources = yaml.safe_load(
        (GRAFANA_DIR / "provisioning" / "datasources" / "datahealth.yml").read_text()
    )
    [source] = datasources["datasources"]
    assert (
        source["type"] == "prometheus"
        and source["uid"] == json.loads(DASHBOARD.read_text())["templating"]["list"][0]["current"]["value"]
    )
    providers = yaml.safe_load((GRAFANA_DIR / "provisioning" / "dashboards" / "datahealth.yml").read_text())
    [provider] = providers["providers"]
    assert provider["type"] == "file" and provider["options"]["path"]
