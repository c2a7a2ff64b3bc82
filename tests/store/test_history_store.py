"""The history store on SQLite and on the real PostgreSQL: migrations, one write per result, reads back."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

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
    utc_now,
)
from datahealth.store import HistoryStore, HistoryStoreError, read, repository
from datahealth.store.incidents import accept_latest_schema
from datahealth.store.repository import ResultToRecord
from datahealth.store.tables import schema_snapshots
from tests.support import postgres

T0 = datetime(2026, 10, 1, 7, tzinfo=UTC)
COLUMNS = (ColumnInfo("id", "integer", False), ColumnInfo("email", "varchar", True))


@pytest.fixture(
    params=["sqlite", pytest.param("postgres", marks=[pytest.mark.integration, pytest.mark.postgres])]
)
def store(request: pytest.FixtureRequest, tmp_path: Path) -> HistoryStore:
    if request.param == "sqlite":
        url = "sqlite:///history/h.db"
    else:
        url = postgres.sqlalchemy_url(request.getfixturevalue("pg_database"))
    opened = HistoryStore.open(url, tmp_path)
    request.addfinalizer(opened.close)
    return opened


def observation(
    as_of: datetime, rows: int, columns: tuple[ColumnInfo, ...] = COLUMNS, error: str | None = None
) -> Observation:
    return Observation(
        dataset="wh.customers",
        source="wh",
        as_of=as_of,
        observed_at=as_of,
        row_count=None if error else rows,
        row_count_method="exact",
        last_updated=as_of - timedelta(hours=2),
        columns=() if error else columns,
        error=error,
        error_kind=ErrorKind.UNREACHABLE if error else None,
    )


def test_a_result_is_written_once_and_read_back(store: HistoryStore) -> None:
    run_id = store.start_run(T0, selection=["wh.customers"], datasets_total=1)
    profile = Profile(
        "wh.customers",
        (
            ColumnProfile(
                "email",
                "varchar",
                {
                    "null_count": 3,
                    "null_ratio": 0.3,
                    "distinct_count": 7,
                    "min": "a",
                    "max": "z",
                    "mean": float("nan"),
                },
            ),
        ),
        row_count=10,
    )
    check = CheckResult(
        "wh.customers",
        "missing email",
        "missing",
        CheckOutcome.FAIL,
        column="email",
        observed_value=3.0,
        threshold="must be 0",
    )
    store.record_dataset_result(run_id, DatasetResult(observation(T0, 10), profile, [check]), Status.FAIL)
    store.finish_run(run_id, status="completed", datasets_failed=0, duration_seconds=1.5, health_score=30.0)
    latest = read.latest_observations(store)["wh.customers"]
    assert (latest.row_count, latest.status, latest.checks_failed, latest.columns) == (
        10,
        Status.FAIL,
        1,
        COLUMNS,
    )
    assert latest.freshness_lag_seconds == 7200.0 and latest.as_of == T0
    [row] = read.latest_profile(store, "wh.customers")
    assert (row.null_count, row.distinct_count, row.mean, row.stats["mean"]) == (
        3,
        7,
        None,
        "nan",
    )
    assert read.checks_of(store, [latest.id])[latest.id][0].outcome == "fail"
    assert read.latest_run(store).health_score == 30.0  # type: ignore[union-attr]


def test_history_is_ordered_and_schema_snapshots_only_on_change(store: HistoryStore) -> None:
    for day in range(3):
        columns = COLUMNS if day < 2 else (*COLUMNS, ColumnInfo("segment", "varchar", True))
        run_id = store.start_run(T0 + timedelta(days=day))
        store.record_dataset_result(
            run_id, DatasetResult(observation(T0 + timedelta(days=day), 10 + day, columns)), Status.OK
        )
    run_id = store.start_run(T0 + timedelta(days=3))
    store.record_dataset_result(
        run_id, DatasetResult(observation(T0 + timedelta(days=3), 0, error="cannot reach wh")), Status.UNKNOWN
    )
    history = read.observation_history(store, ["wh.customers"], since=T0 + timedelta(days=1))["wh.customers"]
    assert [h.row_count for h in history] == [11, 12, None]
    assert history[-1].error == "cannot reach wh" and history[-1].status == Status.UNKNOWN
    assert (
        read.accepted_schemas(store, ["wh.customers"])["wh.customers"] == COLUMNS
    )  # first snapshot = baseline
    accepted = accept_latest_schema(store, "wh.customers", utc_now())  # wall clock, as the CLI does
    assert accepted is not None and accepted[0].columns[-1].name == "segment" and not accepted[1]
    assert read.accepted_schemas(store, ["wh.customers"])["wh.customers"][-1].name == "segment"


def test_prune_removes_runs_older_than_retention(store: HistoryStore) -> None:
    for day in range(5):
        run_id = store.start_run(T0 + timedelta(days=day))
        store.record_dataset_result(
            run_id, DatasetResult(observation(T0 + timedelta(days=day), day)), Status.OK
        )
    removed = store.prune(retention_days=2, now=T0 + timedelta(days=4, hours=1))
    assert removed == 3  # as-of days 0, 1 and 2 are more than two days before day 4 01:00
    assert [h.row_count for h in read.observation_history(store, ["wh.customers"])["wh.customers"]] == [3, 4]


def test_unopenable_store_is_a_clear_secret_free_error(tmp_path: Path) -> None:
    from tests.support.ports import free_port

    with pytest.raises(HistoryStoreError) as caught:
        HistoryStore.open(
            f"postgresql+psycopg://dh:store-secret-pw@127.0.0.1:{free_port()}/history", tmp_path
        )
    assert "cannot open the history store" in str(caught.value)
    assert "store-secret-pw" not in str(caught.value)


def _named(name: str, as_of: datetime, rows: int, columns: tuple[ColumnInfo, ...] = COLUMNS) -> DatasetResult:
    profile = Profile(name, (ColumnProfile("id", "integer", {"null_count": rows}),), row_count=rows)
    check = CheckResult(name, f"rows of {name}", "row_count", CheckOutcome.PASS, observed_value=float(rows))
    return DatasetResult(replace(observation(as_of, rows, columns), dataset=name), profile, [check])


def test_many_results_are_written_in_chunks_each_dataset_whole(
    store: HistoryStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(repository, "RECORD_CHUNK", 2)
    names = [f"wh.t{i}" for i in range(5)]
    first = store.start_run(T0)
    store.record_dataset_results(first, [ResultToRecord(_named(n, T0, 1), Status.OK) for n in names])
    wider = (*COLUMNS, ColumnInfo("segment", "varchar", True))
    second = store.start_run(T0 + timedelta(days=1))
    entries = [
        ResultToRecord(_named(n, T0 + timedelta(days=1), 10 + i, wider if i == 3 else COLUMNS), Status.OK)
        for i, n in enumerate(names)
    ]
    entries[1] = ResultToRecord(entries[1].result, Status.FAIL, "row count fell")
    ids = store.record_dataset_results(second, entries)
    latest = read.latest_observations(store)
    assert ids == [latest[n].id for n in names]
    assert [latest[n].row_count for n in names] == [10, 11, 12, 13, 14]
    assert (
        latest["wh.t1"].status == Status.FAIL and latest["wh.t1"].details["status_reason"] == "row count fell"
    )
    assert [read.latest_profile(store, n)[0].null_count for n in names] == [10, 11, 12, 13, 14]
    checks = read.checks_of(store, ids)
    assert [checks[i][0].name for i in ids] == [f"rows of {n}" for n in names]
    with store.engine.connect() as conn:  # a snapshot only for the first sight and the one changed schema
        snapshots = conn.execute(sa.select(schema_snapshots.c.dataset, schema_snapshots.c.run_id)).all()
    assert sorted(snapshots) == sorted([(n, first) for n in names] + [("wh.t3", second)])


def test_a_failing_chunk_writes_none_of_its_datasets(
    store: HistoryStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(repository, "RECORD_CHUNK", 2)
    run_id = store.start_run(T0)
    entries = [ResultToRecord(_named(f"wh.t{i}", T0, i), Status.OK) for i in range(4)]
    broken = entries[3].result
    entries[3] = ResultToRecord(
        replace(broken, observation=replace(broken.observation, source=None)), Status.OK
    )
    with pytest.raises(sa.exc.IntegrityError):
        store.record_dataset_results(run_id, entries)
    assert sorted(read.latest_observations(store)) == ["wh.t0", "wh.t1"]  # the first chunk only
    assert read.latest_profile(store, "wh.t2") == []
