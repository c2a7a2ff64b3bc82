"""The metric set itself: names, labels, values and what is left out, from hand-built states (no I/O)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from datahealth.config import ConfigError, load_project
from datahealth.core.results import CheckOutcome, Status
from datahealth.publish.prometheus.metrics import (
    ALL_METRICS,
    DatasetState,
    MetricsState,
    RunState,
    metric_families,
    run_succeeded,
)
from datahealth.publish.prometheus.publisher import render
from datahealth.publish.prometheus.state import stale_after
from tests.support.projects import write_project

NOW = datetime(2026, 11, 2, 7, 0, tzinfo=UTC)


def samples(payload: bytes) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Parse exposition text into {(name, sorted labels): value} (the parser is prometheus_client's own)."""
    result = {}
    for family in text_string_to_metric_families(payload.decode()):
        for sample in family.samples:
            result[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return result


def labels(**values: str) -> tuple[tuple[str, str], ...]:
    return tuple(sorted(values.items()))


ORDERS = {"source": "warehouse", "dataset": "warehouse.orders"}


def orders(**changes: object) -> DatasetState:
    fields: dict[str, object] = dict(
        dataset="warehouse.orders",
        source="warehouse",
        severity="error",
        sla_seconds={"warn": 3600.0, "error": 7200.0},
        status=Status.FAIL,
        score=30.0,
        rows=1234,
        last_updated=NOW - timedelta(hours=3),
        last_observed=NOW,
        schema_changes=2,
        checks={"orders_pk_unique": CheckOutcome.FAIL, "amount_not_null": CheckOutcome.PASS},
        null_ratios={"amount": 0.25},
        incidents_open={"error": 2},
    )
    fields.update(changes)
    return DatasetState(**fields)  # type: ignore[arg-type]


def run_state(observed: int = 3, failed: int = 1, last_success: datetime | None = NOW) -> RunState:
    return RunState(
        finished_at=NOW,
        duration_seconds=12.5,
        datasets_observed=observed,
        datasets_failed=failed,
        health_score=55.0,
        last_success_at=last_success,
    )


def test_every_family_with_its_labels_and_values() -> None:
    state = MetricsState(
        [orders(), DatasetState("lake.events", "lake", "warn")], run_state(), 1800.0, column_metrics=True
    )
    got = samples(render(state))
    key = labels(**ORDERS)
    assert (
        got[("datahealth_dataset_last_updated_timestamp_seconds", key)]
        == (NOW - timedelta(hours=3)).timestamp()
    )
    assert got[("datahealth_dataset_last_observed_timestamp_seconds", key)] == NOW.timestamp()
    assert got[("datahealth_freshness_sla_seconds", labels(**ORDERS, severity="warn"))] == 3600.0
    assert got[("datahealth_freshness_sla_seconds", labels(**ORDERS, severity="error"))] == 7200.0
    assert got[("datahealth_dataset_rows", key)] == 1234
    assert got[("datahealth_dataset_status", key)] == 2  # fail
    assert got[("datahealth_dataset_health_score", key)] == 30.0
    assert got[("datahealth_dataset_schema_changes", key)] == 2
    assert got[("datahealth_check_status", labels(**ORDERS, check="orders_pk_unique", severity="error"))] == 2
    assert got[("datahealth_incidents_open", labels(**ORDERS, severity="error"))] == 2
    assert (
        got[("datahealth_incidents_open", labels(**ORDERS, severity="warn"))] == 0
    )  # zero, not missing: panels show 0
    assert got[("datahealth_column_null_ratio", labels(**ORDERS, column="amount"))] == 0.25
    assert got[("datahealth_run_duration_seconds", ())] == 12.5
    assert got[("datahealth_run_finished_timestamp_seconds", ())] == NOW.timestamp()
    assert got[("datahealth_run_last_success_timestamp_seconds", ())] == NOW.timestamp()
    assert got[("datahealth_run_datasets_observed", ())] == 3
    assert got[("datahealth_run_datasets_failed", ())] == 1
    assert got[("datahealth_run_health_score", ())] == 55.0
    assert got[("datahealth_run_stale_after_seconds", ())] == 1800.0
    # a dataset never observed still has its incidents (zero) but no status, rows or freshness
    lake = labels(source="lake", dataset="lake.events")
    assert ("datahealth_dataset_status", lake) not in got and ("datahealth_dataset_rows", lake) not in got
    assert (
        got[("datahealth_incidents_open", labels(source="lake", dataset="lake.events", severity="warn"))] == 0
    )


def test_labels_are_only_the_bounded_ones() -> None:
    state = MetricsState([orders()], run_state(), 60.0, column_metrics=True)
    allowed = {"source", "dataset", "check", "severity", "column"}
    for family in text_string_to_metric_families(render(state).decode()):
        assert family.name.startswith("datahealth_")
        for sample in family.samples:
            assert set(sample.labels) <= allowed, sample
            assert "column" not in sample.labels or family.name == "datahealth_column_null_ratio"


def test_column_metrics_are_opt_in() -> None:
    off = render(MetricsState([orders()], run_state(), 60.0, column_metrics=False)).decode()
    assert "datahealth_column_null_ratio" not in off
    on = render(MetricsState([orders()], run_state(), 60.0, column_metrics=True)).decode()
    assert 'datahealth_column_null_ratio{column="amount"' in on


def test_status_and_check_values() -> None:
    for status, value in [(Status.OK, 0), (Status.WARN, 1), (Status.FAIL, 2), (Status.UNKNOWN, 3)]:
        got = samples(render(MetricsState([orders(status=status)], None, 60.0)))
        assert got[("datahealth_dataset_status", labels(**ORDERS))] == value
    for outcome, value in [
        (CheckOutcome.PASS, 0),
        (CheckOutcome.WARN, 1),
        (CheckOutcome.FAIL, 2),
        (CheckOutcome.ERROR, 3),
    ]:
        got = samples(render(MetricsState([orders(checks={"c": outcome}, severity="warn")], None, 60.0)))
        assert got[("datahealth_check_status", labels(**ORDERS, check="c", severity="warn"))] == value


def test_last_success_can_be_left_out_for_a_failed_push() -> None:
    state = MetricsState([orders()], run_state(), 60.0)
    names = {family.name for family in metric_families(state, last_success=False)}
    assert "datahealth_run_last_success_timestamp_seconds" not in names
    assert "datahealth_run_finished_timestamp_seconds" in names


def test_no_run_yet_means_no_run_series() -> None:
    got = samples(render(MetricsState([orders()], None, 60.0)))
    assert not any(
        name.startswith("datahealth_run_") and name != "datahealth_run_stale_after_seconds" for name, _ in got
    )


def test_a_run_fails_only_when_it_observed_none_of_its_datasets() -> None:
    assert run_succeeded(5, 0) and run_succeeded(5, 4) and run_succeeded(0, 0)
    assert not run_succeeded(5, 5) and not run_succeeded(1, 1)
    assert run_state(observed=2, failed=2).succeeded is False


def test_every_metric_is_documented_with_type_and_labels() -> None:
    docs = (Path(__file__).resolve().parents[3] / "docs" / "metrics.md").read_text()
    for spec in ALL_METRICS:
        assert f"`{spec.name}`" in docs, f"{spec.name} is not in docs/metrics.md"
        section = docs.split(f"`{spec.name}`", 1)[1][:1500]
        assert "gauge" in section
        for label in spec.labels:
            assert f"`{label}`" in section, f"{spec.name}: label {label} not documented"


# configuration --------------------------------------------------------------------------------


def _project(tmp_path: Path, prometheus: dict[str, object], tiers: dict[str, object] | None = None) -> Path:
    sections: dict[str, object] = {"publish": {"prometheus": prometheus}}
    if tiers is not None:
        sections["tiers"] = tiers
    return write_project(
        tmp_path,
        sources={"wh": {"kind": "sql", "url": "duckdb:///wh.duckdb"}},
        datasets={"wh.orders": {}},
        **sections,
    )


def test_empty_pushgateway_url_and_textfile_mean_not_configured(tmp_path: Path) -> None:
    root = _project(tmp_path, {"pushgateway_url": "${NO_SUCH_GATEWAY_VAR:-}", "textfile": ""})
    config = load_project(root, environ={}).config.publish.prometheus
    assert config.pushgateway_url is None and config.textfile is None


def test_the_demo_project_pushes_only_when_the_variable_is_set() -> None:
    repo = Path(__file__).resolve().parents[3]
    unset = load_project(repo, environ={}).config.publish.prometheus
    assert unset.pushgateway_url is None and unset.textfile == "reports/datahealth.prom"
    pushing = load_project(repo, environ={"DATAHEALTH_PUSHGATEWAY_URL": "http://127.0.0.1:9091"})
    assert pushing.config.publish.prometheus.pushgateway_url == "http://127.0.0.1:9091"


@pytest.mark.parametrize(
    ("setting", "message"),
    [
        ({"pushgateway_url": "127.0.0.1:9091"}, "http(s) URL"),
        ({"textfile": "reports/metrics.txt"}, "must end in .prom"),
        ({"job": "data health"}, "job"),
        ({"stale_after": "soon"}, "not a duration"),
    ],
)
def test_bad_prometheus_settings_name_the_key(
    tmp_path: Path, setting: dict[str, object], message: str
) -> None:
    root = _project(tmp_path, setting)
    with pytest.raises(ConfigError) as error:
        load_project(root)
    rendered = error.value.render()
    assert f"publish.prometheus.{next(iter(setting))}" in rendered and message in rendered


def test_stale_after_configured_or_from_the_most_frequent_schedule(tmp_path: Path) -> None:
    configured = load_project(_project(tmp_path / "a", {"stale_after": "90m"}))
    assert stale_after(configured) == 5400
    frequent = load_project(
        _project(
            tmp_path / "b", {}, {"frequent": {"schedule": "*/15 * * * *"}, "daily": {"schedule": "0 7 * * *"}}
        )
    )
    assert stale_after(frequent, NOW) == 2 * 15 * 60
    weekdays = load_project(
        _project(tmp_path / "c", {}, {"daily": {"schedule": "0 6 * * 1-5", "timezone": "Europe/Berlin"}})
    )
    assert stale_after(weekdays, NOW) == 2 * 3 * 86400  # Friday 06:00 to Monday 06:00 is the longest gap
    unscheduled = load_project(_project(tmp_path / "d", {}, {"daily": {}}))
    assert stale_after(unscheduled, NOW) == 2 * 86400


def test_stale_after_counts_only_the_tiers_that_ran(tmp_path: Path) -> None:
    tiers = {"realtime": {"schedule": "* * * * *"}, "daily": {"schedule": "0 7 * * *"}}
    project = load_project(_project(tmp_path, {}, tiers))
    assert stale_after(project, NOW, {"realtime", "daily"}) == 2 * 60
    # the every-minute tier never ran (the demo, runs by hand): not stale two minutes after the last run
    assert stale_after(project, NOW, {"daily"}) == 2 * 86400
    assert stale_after(project, NOW, set()) == 2 * 86400  # no tier ran: the slowest schedule's gap
