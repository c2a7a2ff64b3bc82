"""What the metrics say after real runs on a DuckDB project: textfile, history-store state, run overlay."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime
from pathlib import Path

from typer.testing import CliRunner

from datahealth.cli import app
from datahealth.config import load_project
from datahealth.core.results import (
    CheckOutcome,
    CheckResult,
    ColumnProfile,
    DatasetResult,
    Observation,
    Profile,
    Status,
    utc_now,
)
from datahealth.core.run import RunOptions, RunSummary
from datahealth.monitor.runner import run_monitor
from datahealth.publish.context import PublishContext
from datahealth.publish.prometheus.exporter import serve_metrics
from datahealth.publish.prometheus.publisher import render
from datahealth.publish.prometheus.state import state_for_run, state_from_store
from datahealth.rules.findings import Incident, IncidentChange, IncidentEvent, IncidentStatus, RunEvaluation
from datahealth.store import HistoryStore, read
from datahealth.store.tables import findings, incidents
from tests.support.ports import free_port
from tests.support.prometheus import drop_table, http_get, labels, metrics_project, parse_samples

AS_OF = "2026-10-10T06:00:00Z"
ORDERS = {"source": "wh", "dataset": "wh.orders"}
CUSTOMERS = {"source": "wh", "dataset": "wh.customers"}
NO_CHECKS = RunOptions(profile=False, checks=False)


def textfile(root: Path) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return parse_samples((root / "reports" / "datahealth.prom").read_text())


def test_a_run_writes_the_textfile_atomically_with_its_state(tmp_path: Path) -> None:
    root = metrics_project(tmp_path)
    before = utc_now().timestamp()
    summary = run_monitor(load_project(root), as_of=AS_OF, options=NO_CHECKS)
    assert summary.warnings == []
    got = textfile(root)
    assert got[("datahealth_dataset_rows", labels(**ORDERS))] == 50
    assert got[("datahealth_dataset_rows", labels(**CUSTOMERS))] == 5
    updated = datetime(2026, 10, 10, 5, tzinfo=UTC).timestamp()
    assert got[("datahealth_dataset_last_updated_timestamp_seconds", labels(**ORDERS))] == updated
    assert got[("datahealth_freshness_sla_seconds", labels(**ORDERS, severity="warn"))] == 7200
    assert got[("datahealth_freshness_sla_seconds", labels(**ORDERS, severity="error"))] == 14400
    assert (
        "datahealth_freshness_sla_seconds",
        labels(**CUSTOMERS, severity="warn"),
    ) not in got  # not configured
    assert got[("datahealth_dataset_status", labels(**ORDERS))] == 0  # 1h old as of 06:00, SLA 2h
    assert (
        got[("datahealth_dataset_status", labels(**CUSTOMERS))] == 1
    )  # 25h old, error_after 1d, severity warn
    assert (
        got[("datahealth_run_datasets_observed", ())] == 2
        and got[("datahealth_run_datasets_failed", ())] == 0
    )
    assert got[("datahealth_run_last_success_timestamp_seconds", ())] >= before
    assert [p.name for p in (root / "reports").iterdir() if "datahealth.prom" in p.name] == [
        "datahealth.prom"
    ]


def test_a_subset_run_still_publishes_every_configured_dataset(tmp_path: Path) -> None:
    root = metrics_project(tmp_path)
    project = load_project(root)
    run_monitor(project, as_of=AS_OF, options=NO_CHECKS)
    run_monitor(project, ["wh.orders"], as_of="2026-10-10T07:00:00Z", options=NO_CHECKS)
    got = textfile(root)
    assert got[("datahealth_dataset_rows", labels(**CUSTOMERS))] == 5  # from the history store
    assert got[("datahealth_run_datasets_observed", ())] == 1  # the latest run covered one dataset


def test_a_dataset_removed_from_config_disappears(tmp_path: Path) -> None:
    root = metrics_project(tmp_path)
    run_monitor(load_project(root), as_of=AS_OF, options=NO_CHECKS)
    metrics_project(root, datasets=["wh.orders"])
    run_monitor(load_project(root), as_of=AS_OF, options=NO_CHECKS)
    got = textfile(root)
    assert ("datahealth_dataset_rows", labels(**ORDERS)) in got
    assert not [key for key in got if dict(key[1]).get("dataset") == "wh.customers"]


def test_a_vanished_table_keeps_ageing(tmp_path: Path) -> None:
    root = metrics_project(tmp_path, datasets=["wh.orders"])
    project = load_project(root)
    run_monitor(project, as_of=AS_OF, options=NO_CHECKS)
    drop_table(root, "orders")
    run_monitor(project, as_of="2026-10-10T08:00:00Z", options=NO_CHECKS)
    got = textfile(root)
    assert got[("datahealth_dataset_status", labels(**ORDERS))] >= 2
    assert ("datahealth_dataset_rows", labels(**ORDERS)) not in got
    # the newest data ever seen stays, so `time() - last_updated` keeps growing while the table is gone
    assert (
        got[("datahealth_dataset_last_updated_timestamp_seconds", labels(**ORDERS))]
        == datetime(2026, 10, 10, 5, tzinfo=UTC).timestamp()
    )


def test_a_run_that_observes_nothing_fails_and_keeps_the_last_success(tmp_path: Path) -> None:
    root = metrics_project(tmp_path, datasets=["wh.orders"])
    run_monitor(load_project(root), as_of=AS_OF, options=NO_CHECKS)
    store = HistoryStore.open(load_project(root).config.history.url, root)
    first_run = read.latest_run(store)
    store.close()
    assert first_run is not None
    first_success = first_run.finished_at.timestamp()  # type: ignore[union-attr]
    unreachable = f"postgresql+psycopg://dh:pw@127.0.0.1:{free_port()}/nowhere"
    metrics_project(root, datasets=["wh.orders"], source_url=unreachable)
    summary = run_monitor(load_project(root), as_of="2026-10-10T08:00:00Z", options=NO_CHECKS)
    assert [d.dataset for d in summary.errored] == ["wh.orders"] and summary.warnings == []
    got = textfile(root)
    assert got[("datahealth_dataset_status", labels(**ORDERS))] == 3
    assert got[("datahealth_run_datasets_failed", ())] == 1
    assert got[("datahealth_run_last_success_timestamp_seconds", ())] == first_success
    assert got[("datahealth_run_finished_timestamp_seconds", ())] > first_success


def _result(
    dataset: str, checks: list[CheckResult] | None = None, profile: Profile | None = None
) -> DatasetResult:
    now = utc_now()
    observation = Observation(
        dataset=dataset, source=dataset.split(".")[0], as_of=now, observed_at=now, row_count=7
    )
    return DatasetResult(observation, profile=profile, checks=checks or [])


def test_store_state_checks_profiles_schema_changes_and_incidents(tmp_path: Path) -> None:
    root = metrics_project(tmp_path, prometheus={"column_metrics": True})
    project = load_project(root)
    store = HistoryStore.open(project.config.history.url, project.root)
    try:
        run_id = store.start_run(utc_now())
        checks = [
            CheckResult("wh.orders", "pk_unique", "duplicate", CheckOutcome.FAIL),
            CheckResult("wh.orders", "pk_unique", "duplicate", CheckOutcome.ERROR),  # same name: worst wins
            CheckResult("wh.orders", "amount_ok", "invalid", CheckOutcome.PASS),
        ]
        profile = Profile(
            "wh.orders",
            (
                ColumnProfile("id", "BIGINT", {"null_ratio": 0.0}),
                ColumnProfile("note", "VARCHAR", {"null_ratio": 0.4}),
            ),
            row_count=7,
        )
        store.record_dataset_result(run_id, _result("wh.orders", checks, profile), Status.FAIL)
        # a later metadata-only run keeps the checks and the profile of the run that had them
        later = store.start_run(utc_now())
        store.record_dataset_result(later, _result("wh.orders"), Status.OK)
        now = utc_now()
        with store.engine.begin() as conn:
            conn.execute(
                findings.insert(),
                [
                    {
                        "run_id": later,
                        "dataset": "wh.orders",
                        "as_of": now,
                        "fingerprint": f"wh.orders|schema_change|{c}",
                        "kind": "schema_change",
                        "subject": c,
                        "severity": "warn",
                        "message": "changed",
                    }
                    for c in ("a", "b")
                ],
            )
            conn.execute(
                findings.insert().values(
                    run_id=run_id,
                    dataset="wh.orders",
                    as_of=now,
                    fingerprint="old",
                    kind="schema_change",
                    subject="old",
                    severity="warn",
                    message="old",
                )
            )
            conn.execute(
                incidents.insert(),
                [
                    _incident_row("wh.orders|check|pk_unique", "wh.orders", "error", "open", now),
                    _incident_row("wh.orders|freshness|sla", "wh.orders", "warn", "acknowledged", now),
                    _incident_row("wh.orders|check|old", "wh.orders", "error", "resolved", now),
                    _incident_row("wh.gone|check|x", "wh.gone", "error", "open", now),
                ],
            )
        got = parse_samples(render(state_from_store(project, store)))
    finally:
        store.close()
    assert got[("datahealth_check_status", labels(**ORDERS, check="pk_unique", severity="error"))] == 3
    assert got[("datahealth_check_status", labels(**ORDERS, check="amount_ok", severity="error"))] == 0
    assert got[("datahealth_column_null_ratio", labels(**ORDERS, column="note"))] == 0.4
    assert got[("datahealth_dataset_schema_changes", labels(**ORDERS))] == 2  # only the latest run's
    assert got[("datahealth_dataset_status", labels(**ORDERS))] == 0
    assert got[("datahealth_incidents_open", labels(**ORDERS, severity="error"))] == 1
    assert (
        got[("datahealth_incidents_open", labels(**ORDERS, severity="warn"))] == 1
    )  # acknowledged is still open
    assert not [key for key in got if dict(key[1]).get("dataset") == "wh.gone"]  # not configured


def _incident_row(
    fingerprint: str, dataset: str, severity: str, status: str, now: datetime
) -> dict[str, object]:
    kind, subject = fingerprint.split("|")[1:]
    return {
        "fingerprint": fingerprint,
        "dataset": dataset,
        "kind": kind,
        "subject": subject,
        "severity": severity,
        "status": status,
        "title": "t",
        "opened_at": now,
        "updated_at": now,
        "last_seen_at": now,
    }


def _incident(fingerprint: str, severity: str, status: IncidentStatus) -> Incident:
    now = utc_now()
    dataset, kind, subject = fingerprint.split("|")
    return Incident(1, fingerprint, dataset, kind, subject, severity, status, "t", "", now, now, now)


def test_the_run_being_published_overrides_the_store(tmp_path: Path) -> None:
    """Evaluation's verdict and incident changes count even before (or without) the store holding them."""
    root = metrics_project(tmp_path, datasets=["wh.orders"])
    project = load_project(root)
    store = HistoryStore.open(project.config.history.url, project.root)
    try:
        now = utc_now()
        with store.engine.begin() as conn:
            conn.execute(
                incidents.insert(), [_incident_row("wh.orders|check|pk", "wh.orders", "error", "open", now)]
            )
        result = _result("wh.orders", [CheckResult("wh.orders", "pk", "duplicate", CheckOutcome.PASS)])
        evaluation = RunEvaluation(
            statuses={"wh.orders": Status.WARN},
            scores={"wh.orders": 70.0},
            changes=[
                IncidentChange(
                    _incident("wh.orders|check|pk", "error", IncidentStatus.RESOLVED), IncidentEvent.RESOLVED
                )
            ],
            open_incidents=[_incident("wh.orders|freshness|sla", "warn", IncidentStatus.OPEN)],
        )
        summary = RunSummary(
            run_id="r",
            as_of=now.isoformat(),
            started_at=now.isoformat(),
            duration_seconds=3.5,
            health_score=70.0,
            counts={},
            datasets=[],
        )
        context = PublishContext(
            project=project,
            store=store,
            run_id="r",
            as_of=now,
            datasets=project.datasets,
            results=[result],
            evaluation=evaluation,
            summary=summary,
            options=RunOptions(),
        )
        got = parse_samples(render(state_for_run(context, now=now)))
    finally:
        store.close()
    assert got[("datahealth_dataset_status", labels(**ORDERS))] == 1
    assert got[("datahealth_dataset_health_score", labels(**ORDERS))] == 70
    assert got[("datahealth_dataset_rows", labels(**ORDERS))] == 7
    assert got[("datahealth_check_status", labels(**ORDERS, check="pk", severity="error"))] == 0
    assert got[("datahealth_incidents_open", labels(**ORDERS, severity="error"))] == 0  # resolved in this run
    assert got[("datahealth_incidents_open", labels(**ORDERS, severity="warn"))] == 1
    assert got[("datahealth_run_duration_seconds", ())] == 3.5
    assert got[("datahealth_run_last_success_timestamp_seconds", ())] == now.timestamp()


def test_metrics_command_prints_the_store_state(tmp_path: Path) -> None:
    root = metrics_project(tmp_path)
    run_monitor(
        load_project(root), as_of=AS_OF, options=RunOptions(profile=False, checks=False, publish=False)
    )
    result = CliRunner().invoke(app, ["metrics", "-p", str(root)])
    assert result.exit_code == 0, result.output
    got = parse_samples(result.stdout)
    assert got[("datahealth_dataset_rows", labels(**ORDERS))] == 50
    assert got[("datahealth_run_datasets_observed", ())] == 2


def test_the_exporter_reads_the_store_on_every_scrape(tmp_path: Path) -> None:
    root = metrics_project(tmp_path)
    project = load_project(root)
    store = HistoryStore.open(project.config.history.url, project.root)
    with serve_metrics(project, store, "127.0.0.1", 0) as server:
        url = f"http://127.0.0.1:{server.server_port}/metrics"
        status, body = http_get(url)
        assert status == 200 and ("datahealth_dataset_rows", labels(**ORDERS)) not in parse_samples(body)
        run_monitor(project, as_of=AS_OF, options=RunOptions(profile=False, checks=False, publish=False))
        status, body = http_get(url)
        assert status == 200 and parse_samples(body)[("datahealth_dataset_rows", labels(**ORDERS))] == 50
        store.engine.dispose()
        shutil.rmtree(root / ".datahealth")  # the store is gone: the scrape fails (up == 0), it does not lie
        status, body = http_get(url)
        assert status == 500 and b"datahealth_dataset_rows" not in body
    store.close()


def test_serve_metrics_refuses_a_port_in_use(tmp_path: Path) -> None:
    root = metrics_project(tmp_path)
    project = load_project(root)
    store = HistoryStore.open(project.config.history.url, project.root)
    with serve_metrics(project, store, "127.0.0.1", 0) as server:
        result = CliRunner().invoke(
            app, ["serve-metrics", "-p", str(root), "--port", str(server.server_port)]
        )
    store.close()
    assert result.exit_code == 1
    assert f"cannot listen on 127.0.0.1:{server.server_port}" in result.output


def test_observed_timestamp_is_the_wall_clock_of_the_observation(tmp_path: Path) -> None:
    root = metrics_project(tmp_path, datasets=["wh.orders"])
    before = utc_now().timestamp()
    run_monitor(load_project(root), as_of=AS_OF, options=NO_CHECKS)  # as of a past time: a backfill
    after = utc_now().timestamp()
    observed = textfile(root)[("datahealth_dataset_last_observed_timestamp_seconds", labels(**ORDERS))]
    assert before <= observed <= after
