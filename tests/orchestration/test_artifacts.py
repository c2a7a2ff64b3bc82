"""The artifact builders: the markdown story, the status table, keys and the report link (no Prefect)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from datahealth.config import load_project
from datahealth.core.results import Status
from datahealth.core.run import DatasetSummary, RunSummary
from datahealth.orchestration.artifacts import (
    artifact_key,
    report_link,
    state_message,
    status_table,
    summary_markdown,
)
from datahealth.rules.findings import (
    Finding,
    FindingKind,
    Incident,
    IncidentChange,
    IncidentEvent,
    IncidentStatus,
    RunEvaluation,
)
from tests.orchestration.projects import sqlite_project

NOW = datetime(2026, 10, 5, 7, tzinfo=UTC)


@pytest.fixture
def project(tmp_path: Path):
    return load_project(sqlite_project(tmp_path, ["orders"], project={"name": "Email Personalisation!"}))


def incident(dataset: str, title: str, severity: str = "error") -> Incident:
    return Incident(
        id=1,
        fingerprint=f"{dataset}|freshness|lag",
        dataset=dataset,
        kind="freshness",
        subject="lag",
        severity=severity,
        status=IncidentStatus.OPEN,
        title=title,
        message="",
        opened_at=NOW,
        updated_at=NOW,
        last_seen_at=NOW,
    )


def summary() -> RunSummary:
    datasets = [
        DatasetSummary("warehouse.orders", "ok", 10, NOW.isoformat(), 3600.0, 0, None),
        DatasetSummary(
            "warehouse.gone", "unknown", None, None, None, 0, "table main.gone not found | x", "missing"
        ),
        DatasetSummary("warehouse.late", "fail", 5, NOW.isoformat(), 90000.0, 2, None),
    ]
    return RunSummary(
        run_id="r1",
        as_of=NOW.isoformat(),
        started_at=NOW.isoformat(),
        duration_seconds=1.5,
        health_score=43.3,
        counts={"ok": 1, "warn": 0, "fail": 1, "unknown": 1},
        datasets=datasets,
        warnings=["slack: ConnectionError: refused"],
    )


def test_summary_tells_counts_new_and_resolved_incidents_errors_and_the_report(project) -> None:
    evaluation = RunEvaluation(
        statuses={"warehouse.late": Status.FAIL},
        scores={},
        changes=[
            IncidentChange(incident(dataset="warehouse.late", title="stale for 25h"), IncidentEvent.OPENED),
            IncidentChange(
                incident(dataset="warehouse.orders", title="row count dropped", severity="warn"),
                IncidentEvent.RESOLVED,
            ),
            IncidentChange(incident(dataset="warehouse.x", title="still stale"), IncidentEvent.ONGOING),
        ],
    )
    text = summary_markdown(project, summary(), evaluation, tier="daily", report_link="http://r/1.html")
    assert text.startswith("# Data health: daily\n")
    assert "| ❌ fail | 1 |" in text and "| 🛑 unknown | 1 |" in text and "health score **43/100**" in text
    assert "## New incidents (1)\n\n- **warehouse.late** (error): stale for 25h" in text
    assert "## Resolved incidents (1)\n\n- **warehouse.orders** (warn): row count dropped" in text
    assert "still stale" not in text  # ongoing incidents are not news
    assert "- **warehouse.gone** (missing): table main.gone not found \\| x" in text
    assert "- slack: ConnectionError: refused" in text
    assert text.rstrip().endswith("[Open the data-health report](http://r/1.html)")


def test_summary_without_changes_says_so(project) -> None:
    text = summary_markdown(project, summary(), RunEvaluation(statuses={}, scores={}))
    assert "No new or resolved incidents." in text and "# Data health: all datasets" in text


def test_status_table_lists_worst_first_with_readable_lag() -> None:
    rows = status_table(summary())
    assert [r["dataset"] for r in rows] == ["warehouse.gone", "warehouse.late", "warehouse.orders"]
    assert rows[1]["freshness_lag"] == "1d 1h" and rows[1]["checks_failed"] == 2
    assert rows[0]["error"].startswith("table main.gone not found")


def test_keys_are_stable_slugs_per_tier_and_shard(project) -> None:
    assert artifact_key(project, "summary", "daily") == "email-personalisation-daily-summary"
    assert artifact_key(project, "datasets") == "email-personalisation-all-datasets"
    assert (
        artifact_key(project, "report", "Fast Sweep", 1, 3)
        == "email-personalisation-fast-sweep-shard-2-of-3-report"
    )


def test_report_link_prefers_urls_then_base_url_then_a_file_url(tmp_path: Path) -> None:
    root = sqlite_project(
        tmp_path,
        ["orders"],
        publish={"report": {"directory": "reports", "base_url": "https://dq.example.com/r"}},
    )
    with_base = load_project(root)
    assert report_link(with_base, "https://x/y.html") == "https://x/y.html"
    assert (
        report_link(with_base, str(tmp_path / "reports" / "2026" / "run.html"))
        == "https://dq.example.com/r/2026/run.html"
    )
    plain = load_project(sqlite_project(tmp_path / "p2", ["orders"]))
    assert report_link(plain, "reports/run.html") == (tmp_path / "p2" / "reports" / "run.html").as_uri()
    assert report_link(plain, None) is None


def test_summary_lists_every_open_incident_worst_first_and_marks_new_ones(project) -> None:
    new = incident("warehouse.late", "stale for 25h")
    old = incident("warehouse.orders", "row count dropped", severity="warn")
    old = Incident(**{**old.__dict__, "id": 2, "fingerprint": "warehouse.orders|anomaly|rows"})
    evaluation = RunEvaluation(
        statuses={},
        scores={},
        changes=[IncidentChange(new, IncidentEvent.OPENED)],
        open_incidents=[old, new],
    )
    text = summary_markdown(project, summary(), evaluation)
    section = text.split("## Open incidents (2)\n\n", 1)[1].splitlines()
    assert section[0] == "- 🆕 **#1 warehouse.late** (error, open, since 2026-10-05 07:00): stale for 25h"
    assert section[1] == "- **#2 warehouse.orders** (warn, open, since 2026-10-05 07:00): row count dropped"


def test_status_table_gives_each_problem_a_reason() -> None:
    finding = Finding("warehouse.late", FindingKind.FRESHNESS, "sla", "error", "stale for 25h (SLA 12h)")
    rows = status_table(summary(), RunEvaluation(statuses={}, scores={}, findings=[finding]))
    reasons = {r["dataset"]: r["reason"] for r in rows}
    assert reasons == {
        "warehouse.gone": "table main.gone not found | x",
        "warehouse.late": "stale for 25h (SLA 12h)",
        "warehouse.orders": None,
    }


def test_state_message_says_how_many_datasets_fail_and_which() -> None:
    assert state_message(summary()) == (
        "2 of 3 datasets failing: warehouse.gone (unknown), warehouse.late (fail) · health 43/100"
    )
    healthy = RunSummary(**{**summary().__dict__, "datasets": summary().datasets[:1]})
    assert state_message(healthy) == "All 1 datasets healthy"
    many = [DatasetSummary(f"w.t{i}", Status.FAIL.value, 1, None, None, 0, None) for i in range(7)]
    text = state_message(RunSummary(**{**summary().__dict__, "datasets": many}), listed=2)
    assert text.startswith("7 of 7 datasets failing: w.t0 (fail), w.t1 (fail), … 5 more")
