"""The history store locked, unreachable, shared by concurrent runs, and pruned by retention.

The store is the monitor's memory: when it is locked for a moment a run waits; when it stays locked or
cannot be reached the run stops with one clear line (no traceback, no password) and what earlier runs
recorded is untouched; runs sharing a PostgreSQL store at once never duplicate an incident.
"""

from __future__ import annotations

import re
import sqlite3
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from datahealth.cli import app
from datahealth.config import load_project
from datahealth.core.run import RunOptions, RunSummary
from datahealth.monitor.runner import run_monitor
from datahealth.store import HistoryStoreError, read
from datahealth.store.tables import deliveries, incident_events, incidents, observations, runs
from tests.reliability.cluster import PrivateCluster
from tests.reliability.conftest import CLUSTER_PASSWORD
from tests.reliability.world import (
    after_datasets,
    by_dataset,
    history,
    open_store,
    run,
    write_monitoring_project,
)
from tests.support import postgres

DAY0 = datetime(2026, 10, 10, 6, 0, tzinfo=UTC)
DATASETS = {
    "wh.orders": {"timestamp_column": "updated_at", "sla": {"error_after": "1d"}},
    "wh.customers": {"timestamp_column": "updated_at", "sla": {"error_after": "1d"}},
}
cli = CliRunner()


def load(root: Path, at: datetime) -> None:
    """A load into both tables at `at` (their newest `updated_at` from then on)."""
    root.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(str(root / "wh.duckdb"))
    for table in ("orders", "customers"):
        con.execute(f"CREATE TABLE IF NOT EXISTS {table} (id INTEGER, updated_at TIMESTAMP)")
        con.execute(f"INSERT INTO {table} VALUES (1, ?)", [at.replace(tzinfo=None)])  # noqa: S608
    con.close()


def project(
    root: Path,
    history_url: str | None = None,
    loaded: datetime = DAY0 - timedelta(hours=1),
    retention_days: int | None = None,
) -> Path:
    load(root, loaded)
    return write_monitoring_project(
        root,
        {"wh": {"kind": "sql", "url": "duckdb:///wh.duckdb"}},
        DATASETS,
        history_url=history_url,
        retention_days=retention_days,
    )


def quick(root: Path, as_of: datetime) -> RunSummary:
    return run(root, as_of, report=False, profile=False, checks=False)


def cli_run(root: Path, as_of: datetime) -> tuple[int, str]:
    result = cli.invoke(app, ["run", "-p", str(root), "--no-prefect", "--as-of", as_of.isoformat()])
    return result.exit_code, result.output


def test_a_store_locked_for_a_moment_makes_the_run_wait_and_lose_nothing(tmp_path: Path) -> None:
    root = project(tmp_path)
    quick(root, DAY0)
    locker = sqlite3.connect(
        tmp_path / ".datahealth" / "history.db", isolation_level=None, check_same_thread=False
    )
    released: list[datetime] = []

    def lock_for_a_second() -> None:  # a backup or another process writing, while this run observes
        locker.execute("BEGIN EXCLUSIVE")

        def release() -> None:
            released.append(datetime.now(UTC))
            locker.execute("ROLLBACK")

        threading.Timer(1.0, release).start()

    with after_datasets(1, lock_for_a_second):
        summary = quick(root, DAY0 + timedelta(hours=1))
    locker.close()
    assert released and summary.warnings == []
    assert {d.status for d in summary.datasets} == {"ok"}
    store = open_store(root)
    try:
        latest = read.latest_run(store)
        assert latest is not None and latest.status == "completed"
        assert (
            latest.finished_at is not None and latest.finished_at >= released[0]
        )  # it really waited for the lock
    finally:
        store.close()
    assert [len(rows) for rows in history(root, list(DATASETS)).values()] == [2, 2]


def test_a_store_locked_past_its_timeout_stops_the_run_with_one_clear_line(tmp_path: Path) -> None:
    root = project(tmp_path, history_url=f"sqlite:///{tmp_path / 'history.db'}?timeout=0.5")
    assert cli_run(root, DAY0)[0] == 0
    locker = sqlite3.connect(tmp_path / "history.db", isolation_level=None)
    locker.execute("BEGIN EXCLUSIVE")
    try:
        code, output = cli_run(root, DAY0 + timedelta(hours=1))
    finally:
        locker.execute("ROLLBACK")
        locker.close()
    assert code == 1, output
    assert "error: cannot use the history store sqlite:///" in output and "database is locked" in output
    progress = re.compile(r"\[ *\d+/\d+ +[\d.]+s\] ")  # piped output shows progress as lines
    said = [line for line in output.strip().splitlines() if not progress.match(line)]
    assert "Traceback" not in output and len(said) == 1, said

    assert cli_run(root, DAY0 + timedelta(hours=2))[0] == 0  # the lock is gone: runs work again
    stored = history(root, list(DATASETS))
    assert [[o.as_of for o in rows] for rows in stored.values()] == [[DAY0, DAY0 + timedelta(hours=2)]] * 2


def test_an_unreachable_postgres_store_stops_runs_cleanly_and_keeps_what_it_had(
    tmp_path: Path, cluster: PrivateCluster
) -> None:
    cluster.ensure_running()
    database = cluster.create_database("history_unreachable")
    root = project(tmp_path, history_url=cluster.url(database))
    stale = DAY0 + timedelta(days=2)
    assert (
        by_dataset(quick(root, stale))["wh.orders"].status == "fail"
    )  # two days without a load: an incident

    cluster.stop()
    code, output = cli_run(root, stale + timedelta(hours=1))
    assert code == 1 and "Traceback" not in output
    assert (
        f"cannot open the history store postgresql+psycopg://postgres:***@127.0.0.1:{cluster.port}/" in output
    )
    assert CLUSTER_PASSWORD not in output

    cluster.start()
    with after_datasets(1, cluster.stop), pytest.raises(HistoryStoreError) as lost:
        quick(
            root, stale + timedelta(hours=1)
        )  # the store goes away while the run observes: it cannot record
    assert "cannot use the history store postgresql+psycopg://postgres:***@" in str(lost.value)
    assert CLUSTER_PASSWORD not in str(lost.value) and "\n" not in str(lost.value)

    cluster.start()
    load(tmp_path, stale)  # meanwhile the data was fixed
    recovered = quick(root, stale + timedelta(hours=2))
    assert {d.status for d in recovered.datasets} == {"ok"}
    store = open_store(root)
    try:
        with store.engine.connect() as conn:
            statuses = sorted(conn.execute(sa.select(runs.c.status)).scalars())
            incident_states = list(conn.execute(sa.select(incidents.c.dataset, incidents.c.status)))
    finally:
        store.close()
    assert statuses == ["completed", "completed", "running"]  # the interrupted run is left as it stopped
    assert sorted(incident_states) == [("wh.customers", "resolved"), ("wh.orders", "resolved")]
    assert [len(rows) for rows in history(root, list(DATASETS)).values()] == [2, 2]  # first run's rows kept


def test_concurrent_runs_on_one_postgres_store_corrupt_nothing(tmp_path: Path, pg_database: str) -> None:
    root = project(tmp_path, history_url=postgres.sqlalchemy_url(pg_database))
    loaded = load_project(root)
    start = threading.Barrier(3)
    summaries: list[RunSummary] = []
    errors: list[BaseException] = []

    def one_run(offset: int) -> None:
        try:
            start.wait(timeout=30)
            summaries.append(
                run_monitor(
                    loaded,
                    as_of=DAY0 + timedelta(days=2, minutes=offset),
                    options=RunOptions(profile=False, checks=False, report=False),
                )
            )
        except BaseException as exc:  # collected: the assertion below shows it
            errors.append(exc)

    threads = [threading.Thread(target=one_run, args=(i,)) for i in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert errors == [] and len(summaries) == 3
    assert all(by_dataset(s)["wh.orders"].status == "fail" for s in summaries)  # all three saw it stale

    store = open_store(root)
    try:
        with store.engine.connect() as conn:
            assert sorted(conn.execute(sa.select(runs.c.status)).scalars()) == ["completed"] * 3
            per_dataset = dict(
                conn.execute(
                    sa.select(observations.c.dataset, sa.func.count()).group_by(observations.c.dataset)
                ).all()
            )
            opened = conn.execute(
                sa.select(incidents.c.dataset, incidents.c.status, incidents.c.occurrences).order_by(
                    incidents.c.dataset
                )
            ).all()
            opened_events = conn.execute(
                sa.select(sa.func.count()).where(incident_events.c.event == "opened")
            ).scalar()
    finally:
        store.close()
    assert per_dataset == {"wh.orders": 3, "wh.customers": 3}
    assert [(d, s) for d, s, _ in opened] == [("wh.customers", "open"), ("wh.orders", "open")]  # one each
    assert sorted(n for _, _, n in opened) == [3, 3] and opened_events == 2  # three sightings, one opening


def test_retention_prunes_old_history_once_a_day_relative_to_the_run(tmp_path: Path) -> None:
    day = DAY0 - timedelta(days=3)  # 2026-10-07 06:00
    root = project(tmp_path, loaded=day - timedelta(hours=1), retention_days=2)
    quick(root, day)
    quick(root, DAY0)  # three days without a load: two incidents open
    store = open_store(root)
    try:
        with store.engine.begin() as conn:  # a Slack message that went out long ago, and one still pending
            for status in ("sent", "pending"):
                conn.execute(
                    deliveries.insert().values(
                        channel="slack",
                        target="#x",
                        kind="post",
                        payload={},
                        status=status,
                        attempts=1,
                        created_at=DAY0,
                    )
                )

        def run_at(moment: datetime) -> list[str]:
            load(tmp_path, moment - timedelta(hours=1))
            quick(root, moment)
            with store.engine.connect() as conn:
                return [
                    f"{r:%d %H}"
                    for r in conn.execute(sa.select(runs.c.as_of).order_by(runs.c.as_of)).scalars()
                ]

        def kept() -> list[tuple[str, str]]:
            with store.engine.connect() as conn:
                return sorted(
                    [
                        *conn.execute(sa.select(sa.literal("incident"), incidents.c.status)).tuples(),
                        *conn.execute(sa.select(sa.literal("delivery"), deliveries.c.status)).tuples(),
                    ]
                )

        assert run_at(DAY0 + timedelta(days=1)) == ["10 06", "11 06"]  # cutoff 9th 00:00: the 7th goes
        assert kept() == [
            ("delivery", "pending"),
            ("delivery", "sent"),
            ("incident", "resolved"),
            ("incident", "resolved"),
        ]
        assert run_at(DAY0 + timedelta(days=1, hours=12)) == ["10 06", "11 06", "11 18"]  # same cutoff
        assert run_at(DAY0 + timedelta(days=3)) == ["11 06", "11 18", "13 06"]  # cutoff 11th: the 10th goes
        assert kept() == [("delivery", "pending"), ("incident", "resolved"), ("incident", "resolved")]
        assert run_at(DAY0 + timedelta(days=4)) == ["13 06", "14 06"]  # cutoff 12th: resolved on the 11th go
        assert kept() == [("delivery", "pending")]  # open state stays whatever its age
        assert [len(rows) for rows in read.observation_history(store, list(DATASETS)).values()] == [2, 2]
    finally:
        store.close()
