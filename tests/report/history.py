"""A project and a history store with ten days of realistic (and hostile) history for report tests.

Written through the real write path (`HistoryStore.record_dataset_result`) for runs, observations,
profiles, checks and schema snapshots. Incidents, their events and findings are inserted into their
tables directly, as the incident lifecycle would leave them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from datahealth.config import Project, load_project
from datahealth.core.results import (
    CheckOutcome,
    CheckResult,
    ColumnInfo,
    ColumnProfile,
    DatasetResult,
    ErrorKind,
    Observation,
    Profile,
    Status,
)
from datahealth.store import HistoryStore
from datahealth.store.tables import findings, incident_events, incidents, runs
from tests.support.projects import write_project

START = datetime(2026, 10, 1, 7, 0, tzinfo=UTC)
DAYS = 10
AS_OF = START + timedelta(days=DAYS - 1)

# Strings that would run script or inject markup if any part of the report wrote them as HTML.
HOSTILE_COLUMN = '<img src=x onerror="window.__pwned=1" class="dh-injected">'
HOSTILE_VALUE = '</script><script>window.__pwned=2</script><b class="dh-injected">x</b>'
HOSTILE_DATASET = "warehouse.<svg/onload=window.__pwned=3>"
HOSTILE_OWNER = '<i class="dh-injected">team</i>'
SECRET = "hunter2-very-secret"
PII_EMAIL = "jane.doe@example.org"

ORDERS = "warehouse.orders"
CUSTOMERS = "warehouse.customers"
BROKEN = "warehouse.broken"
QUIET = "warehouse.never_seen"


@dataclass
class History:
    project: Project
    store: HistoryStore
    run_ids: list[str]


def write_report_project(root: Path, history_url: str | None = None, **publish: Any) -> Project:
    sources = {"warehouse": {"kind": "sql", "url": f"sqlite:///{root / 'warehouse.db'}"}}
    datasets = {
        ORDERS: {
            "table": "orders",
            "owners": ["commerce-team"],
            "tags": ["revenue"],
            "description": "Orders <b>loaded</b> nightly",
            "sla": {"warn_after": "30h", "error_after": "48h"},
        },
        CUSTOMERS: {
            "table": "customers",
            "owners": ["crm-team"],
            "tags": ["pii"],
            "sla": {"warn_after": "30h", "error_after": "48h"},
        },
        HOSTILE_DATASET: {"table": "hostile", "owners": [HOSTILE_OWNER], "description": HOSTILE_VALUE},
        BROKEN: {"table": "broken", "owners": ["platform"]},
        QUIET: {"table": "never_seen"},
    }
    routing = [
        {"name": "crm", "match": {"owners": ["crm-team"]}, "email": ["crm@example.com"]},
        {
            "name": "revenue",
            "match": {"tags": ["revenue"], "min_severity": "error"},
            "email": ["revenue@example.com"],
        },
    ]
    sections: dict[str, Any] = {
        "routing": routing,
        "publish": {
            "email": {"recipients": ["data@example.com"]},
            "report": {"title": "Test <health> report"},
            **publish,
        },
    }
    # relative by default, so a copy of the project directory is a copy of its history too
    sections["history"] = {"url": history_url or "sqlite:///.datahealth/history.db"}
    write_project(root, sources, datasets, **sections)
    return load_project(root)


def open_history(root: Path) -> History:
    """A project directory made by `build_history` (or a copy of one), opened again."""
    project = load_project(root)
    store = HistoryStore.open(project.config.history.url, project.root)
    with store.engine.connect() as conn:
        run_ids = [r for (r,) in conn.execute(sa.select(runs.c.id).order_by(runs.c.as_of))]
    return History(project, store, run_ids)


def build_history(root: Path, history_url: str | None = None, **publish: Any) -> History:
    project = write_report_project(root, history_url, **publish)
    store = HistoryStore.open(project.config.history.url, project.root)
    run_ids = [_record_day(store, day) for day in range(DAYS)]
    _record_incidents(store, run_ids)
    return History(project, store, run_ids)


def _columns(day: int) -> tuple[ColumnInfo, ...]:
    columns = [
        ColumnInfo("id", "INTEGER", False),
        ColumnInfo("email", "VARCHAR", True),
        ColumnInfo(HOSTILE_COLUMN, "VARCHAR", True),
    ]
    if day >= 6:  # a column added and one retyped on day 6
        columns[0] = ColumnInfo("id", "BIGINT", False)
        columns.append(ColumnInfo("coupon", "VARCHAR", True))
    return tuple(columns)


def _record_day(store: HistoryStore, day: int) -> str:
    as_of = START + timedelta(days=day)
    run_id = store.start_run(as_of, tier="daily", datasets_total=4)
    rows = 1000 + 10 * day if day != 8 else 100  # a volume drop on day 8
    for name in (ORDERS, CUSTOMERS, HOSTILE_DATASET):
        columns = _columns(day)
        lag = timedelta(hours=3) if not (name == CUSTOMERS and day >= 7) else timedelta(hours=24 * (day - 5))
        observation = Observation(
            name, "warehouse", as_of, as_of, 0.1, rows, "exact", as_of - lag, "max", columns
        )
        null_ratio = 0.25 if day == 9 else 0.0
        profile = Profile(
            name,
            tuple(
                ColumnProfile(
                    c.name, c.data_type, {"null_count": int(rows * null_ratio), "null_ratio": null_ratio}
                )
                for c in columns
            ),
            rows,
        )
        failing = day >= 8
        checks = [
            CheckResult(
                name,
                "missing email",
                "missing",
                CheckOutcome.FAIL if failing else CheckOutcome.PASS,
                column="email",
                observed_value=3 if failing else 0,
                threshold="= 0",
                message=f"3 missing values; driver said password={SECRET}" if failing else "",
            ),
            CheckResult(
                name, "row count", "row_count", CheckOutcome.PASS, observed_value=rows, threshold="> 0"
            ),
        ]
        status = Status.FAIL if failing else Status.OK
        if name == CUSTOMERS and day >= 7:
            status = Status.FAIL
        store.record_dataset_result(run_id, DatasetResult(observation, profile, checks), status)
    broken = (
        Observation(
            BROKEN,
            "warehouse",
            as_of,
            as_of,
            0.0,
            error=f"connection refused (password={SECRET})",
            error_kind=ErrorKind.UNREACHABLE,
        )
        if day >= 5
        else Observation(
            BROKEN,
            "warehouse",
            as_of,
            as_of,
            0.0,
            50,
            "exact",
            as_of - timedelta(hours=1),
            "max",
            _columns(0),
        )
    )
    store.record_dataset_result(run_id, DatasetResult(broken), Status.UNKNOWN if day >= 5 else Status.OK)
    store.finish_run(
        run_id,
        status="completed",
        datasets_failed=1 if day >= 5 else 0,
        duration_seconds=4.2,
        health_score=50.0,
        summary={"counts": {}, "warnings": [f"slack: token={SECRET} rejected"]},
    )
    return run_id


def _record_incidents(store: HistoryStore, run_ids: list[str]) -> None:
    def at(day: int) -> datetime:
        return START + timedelta(days=day)

    with store.engine.begin() as conn:
        rows = [
            (
                ORDERS,
                "check",
                "missing email",
                "error",
                "open",
                f"{ORDERS}: check missing email failed",
                8,
                None,
            ),
            (CUSTOMERS, "freshness", "sla", "error", "open", f"{CUSTOMERS} is stale", 7, None),
            (HOSTILE_DATASET, "check", HOSTILE_COLUMN, "warn", "open", f"hostile {HOSTILE_VALUE}", 8, None),
            (ORDERS, "anomaly", "row_count", "warn", "resolved", f"{ORDERS}: row count dropped", 2, 3),
        ]
        for dataset, kind, subject, severity, status, title, opened, resolved in rows:
            incident_id = conn.execute(
                incidents.insert().values(
                    fingerprint=f"{dataset}|{kind}|{subject}",
                    dataset=dataset,
                    kind=kind,
                    subject=subject,
                    severity=severity,
                    status=status,
                    title=title,
                    message=title,
                    opened_at=at(opened),
                    updated_at=at(opened),
                    last_seen_at=at(resolved or DAYS - 1),
                    resolved_at=at(resolved) if resolved else None,
                    last_run_id=run_ids[-1],
                    occurrences=(resolved or DAYS) - opened,
                )
            ).inserted_primary_key[0]
            conn.execute(
                incident_events.insert().values(
                    incident_id=incident_id, at=at(opened), event="opened", run_id=run_ids[opened]
                )
            )
            if resolved:
                conn.execute(
                    incident_events.insert().values(
                        incident_id=incident_id, at=at(resolved), event="resolved", run_id=run_ids[resolved]
                    )
                )
        conn.execute(
            findings.insert().values(
                run_id=run_ids[8],
                dataset=ORDERS,
                as_of=at(8),
                fingerprint=f"{ORDERS}|anomaly|row_count",
                kind="anomaly",
                subject="row_count",
                severity="warn",
                message="row count 100 is below the expected 1,020-1,140",
                details={
                    "metric": "row_count",
                    "observed": 100,
                    "low": 1020.0,
                    "high": 1140.0,
                    "expected_range": [1020.0, 1140.0],
                },
            )
        )
        conn.execute(
            findings.insert().values(  # the detector's other volume metric: rows added in a period
                run_id=run_ids[9],
                dataset=CUSTOMERS,
                as_of=at(9),
                fingerprint=f"{CUSTOMERS}|anomaly|volume",
                kind="anomaly",
                subject="volume",
                severity="warn",
                message="10 rows added in the last 1d is a drop",
                details={
                    "metric": "rows_added",
                    "observed": 10.0,
                    "low": 5.0,
                    "high": 20.0,
                    "expected_range": [5.0, 20.0],
                },
            )
        )
        conn.execute(
            findings.insert().values(  # a column anomaly is not a row-count marker
                run_id=run_ids[9],
                dataset=CUSTOMERS,
                as_of=at(9),
                fingerprint=f"{CUSTOMERS}|anomaly|column.rows.null_ratio",
                kind="anomaly",
                subject="column.rows.null_ratio",
                severity="warn",
                message="null ratio spike",
                details={"metric": "null_ratio", "observed": 0.5, "low": 0.0, "high": 0.01},
            )
        )
        conn.execute(
            findings.insert().values(
                run_id=run_ids[9],
                dataset=ORDERS,
                as_of=at(9),
                fingerprint=f"{ORDERS}|check|missing email",
                kind="check",
                subject="missing email",
                severity="error",
                message="3 missing values",
                details={
                    "title": f"{ORDERS}: check missing email failed",
                    "observed": "3",
                    "expected": "= 0",
                },
            )
        )
