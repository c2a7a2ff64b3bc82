"""Writing run history: runs, and datasets' results in one transaction per chunk (`record_dataset_results`).

Other writes live with their feature over the same engine (`incidents`, `deliveries`); every read is
the read model's (`store.read`).
"""

from __future__ import annotations

import hashlib
import json
import math
import uuid
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, NamedTuple

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from datahealth.core.redaction import redact
from datahealth.core.results import (
    ColumnInfo,
    DatasetResult,
    Observation,
    Status,
    as_utc,
    utc_now,
)
from datahealth.store import migrate
from datahealth.store.engine import HistoryStoreError, create_history_engine, resolve_history_url
from datahealth.store.tables import (
    check_results,
    deliveries,
    incidents,
    observations,
    profiles,
    runs,
    schema_snapshots,
)


def schema_fingerprint(columns: Iterable[ColumnInfo]) -> str:
    payload = json.dumps([c.to_dict() for c in columns], sort_keys=True)
    return hashlib.sha256(payload.encode()).hexdigest()


RECORD_CHUNK = 500  # datasets per transaction when recording a run's results


class ResultToRecord(NamedTuple):
    """One dataset's result with the status evaluation gave it and, when not ok, the reason why."""

    result: DatasetResult
    status: Status
    reason: str | None = None


class HistoryStore:
    """The memory of datahealth: runs, observations, profiles, checks, snapshots, incidents, deliveries."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    @classmethod
    def open(cls, url: str, project_root: Path | str = ".") -> HistoryStore:
        """Open (and migrate) the store at `url`; raise HistoryStoreError with a secret-free message."""
        resolved = resolve_history_url(url, Path(project_root))
        try:
            engine = create_history_engine(resolved)
            migrate.upgrade(engine)
        except Exception as exc:  # any driver, filesystem or migration failure
            shown = redact(resolved.render_as_string(hide_password=True))
            reason = (
                exc.reason
                if isinstance(exc, HistoryStoreError)
                else redact(str(getattr(exc, "orig", None) or exc).splitlines()[0])
            )
            raise HistoryStoreError(f"cannot open the history store {shown}: {reason}") from None
        return cls(engine)

    def close(self) -> None:
        self.engine.dispose()

    # runs ---------------------------------------------------------------------------------------

    def start_run(
        self,
        as_of: datetime,
        *,
        tier: str | None = None,
        selection: Sequence[str] = (),
        flow_run_id: str | None = None,
        datasets_total: int = 0,
        owner: dict[str, Any] | None = None,
    ) -> str:
        """Record a run as `running`; `owner` (host, pid) lets the next run tell whether it died."""
        run_id = str(uuid.uuid4())
        with self.engine.begin() as conn:
            conn.execute(
                runs.insert().values(
                    id=run_id,
                    started_at=utc_now(),
                    as_of=as_of,
                    status="running",
                    tier=tier,
                    flow_run_id=flow_run_id,
                    selection=list(selection),
                    datasets_total=datasets_total,
                    summary={"owner": owner} if owner else None,
                )
            )
        return run_id

    def finish_run(
        self,
        run_id: str,
        *,
        status: str,
        datasets_failed: int,
        duration_seconds: float,
        health_score: float | None = None,
        summary: dict[str, Any] | None = None,
    ) -> None:
        with self.engine.begin() as conn:
            conn.execute(
                runs.update()
                .where(runs.c.id == run_id)
                .values(
                    finished_at=utc_now(),
                    status=status,
                    datasets_failed=datasets_failed,
                    duration_seconds=duration_seconds,
                    health_score=health_score,
                    summary=summary,
                )
            )

    # dataset results ----------------------------------------------------------------------------

    def record_dataset_result(
        self, run_id: str, result: DatasetResult, status: Status, *, reason: str | None = None
    ) -> int:
        """Write one dataset's observation, profile and check results in one transaction; returns the observation id.

        `reason` (why the dataset errored or could not be verified) is kept in the details as `status_reason`.
        """
        return self.record_dataset_results(run_id, [ResultToRecord(result, status, reason)])[0]

    def record_dataset_results(self, run_id: str, entries: Sequence[ResultToRecord]) -> list[int]:
        """Write many datasets' results, one transaction per chunk of `RECORD_CHUNK`; returns observation ids in order.

        A run writes thousands of results: one transaction (one commit, one fsync) per chunk instead of
        one per dataset, profiles, checks and schema snapshots as multi-row inserts, the latest schema
        fingerprints in one query. Observations need their ids back in order, so where the database
        cannot return them in order from one multi-row insert (SQLite) they go one statement each,
        still inside the chunk's transaction. A dataset's rows commit or roll back together, since
        they never straddle two chunks.
        """
        ids: list[int] = []
        for start in range(0, len(entries), RECORD_CHUNK):
            with self.engine.begin() as conn:
                ids.extend(self._record_chunk(conn, run_id, entries[start : start + RECORD_CHUNK]))
        return ids

    def _record_chunk(self, conn: sa.Connection, run_id: str, entries: Sequence[ResultToRecord]) -> list[int]:
        if not entries:
            return []
        inserted = conn.execute(
            observations.insert().returning(observations.c.id, sort_by_parameter_order=True),
            [_observation_row(run_id, entry) for entry in entries],
        )
        ids = [int(key) for key in inserted.scalars()]
        profile_rows: list[dict[str, Any]] = []
        check_rows: list[dict[str, Any]] = []
        for entry, observation_id in zip(entries, ids, strict=True):
            if entry.result.profile is not None:
                profile_rows.extend(_profile_rows(run_id, observation_id, entry.result))
            check_rows.extend(_check_rows(run_id, observation_id, entry.result))
        if profile_rows:
            conn.execute(profiles.insert(), profile_rows)
        if check_rows:
            conn.execute(check_results.insert(), check_rows)
        self._snapshot_schemas(conn, run_id, [e.result.observation for e in entries])
        return ids

    def _snapshot_schemas(self, conn: sa.Connection, run_id: str, observed: Sequence[Observation]) -> None:
        """Store a snapshot only when a schema differs from the dataset's latest one (keeps the table small).

        The latest fingerprints of the whole chunk come from one query; a dataset seen twice in a chunk
        is compared with the snapshot written for it just before.
        """
        candidates = [obs for obs in observed if obs.ok and obs.columns]
        if not candidates:
            return
        latest = _latest_fingerprints(conn, sorted({obs.dataset for obs in candidates}))
        rows = []
        for obs in candidates:
            fingerprint = schema_fingerprint(obs.columns)
            previous = latest.get(obs.dataset)
            if previous == fingerprint:
                continue
            latest[obs.dataset] = fingerprint
            rows.append(
                {
                    "dataset": obs.dataset,
                    "run_id": run_id,
                    "as_of": obs.as_of,
                    "fingerprint": fingerprint,
                    "columns": [c.to_dict() for c in obs.columns],
                    "accepted": previous is None,
                    "accepted_at": utc_now() if previous is None else None,
                }
            )
        if rows:
            conn.execute(schema_snapshots.insert(), rows)

    def prune(self, retention_days: int, now: datetime | None = None) -> int:
        """Delete what is older than the retention; returns runs removed.

        Runs go with their observations, profiles, check results and findings; deliveries already sent
        or given up, and incidents resolved, before the cutoff go too. Open incidents, pending deliveries
        and schema baselines stay whatever their age: they are state, not history.
        """
        cutoff = (now or utc_now()) - timedelta(days=retention_days)
        with self.engine.begin() as conn:
            conn.execute(
                deliveries.delete().where(
                    deliveries.c.status.in_(("sent", "failed")), deliveries.c.created_at < cutoff
                )
            )
            conn.execute(
                incidents.delete().where(incidents.c.status == "resolved", incidents.c.resolved_at < cutoff)
            )
            old = [r[0] for r in conn.execute(sa.select(runs.c.id).where(runs.c.as_of < cutoff))]
            if not old:
                return 0
            for table in (check_results, profiles, observations):
                conn.execute(table.delete().where(table.c.run_id.in_(old)))
            conn.execute(runs.delete().where(runs.c.id.in_(old)))
        return len(old)

    def prune_expired(self, retention_days: int, as_of: datetime) -> int:
        """Retention at the end of a run: `prune` with a cutoff that moves once a day (midnight UTC).

        Only the first run of a day finds anything to delete; every other run pays one indexed lookup on
        `runs.as_of`. The day is that of the run's as-of time when it is in the past, so a backfill of old
        days keeps the history it is writing.
        """
        moment = min(as_utc(as_of) or utc_now(), utc_now())
        day = moment.replace(hour=0, minute=0, second=0, microsecond=0)
        cutoff = day - timedelta(days=retention_days)
        with self.engine.connect() as conn:
            expired = conn.execute(sa.select(runs.c.id).where(runs.c.as_of < cutoff).limit(1)).first()
        return self.prune(retention_days, now=day) if expired is not None else 0


def _latest_fingerprints(conn: sa.Connection, datasets: Sequence[str]) -> dict[str, str]:
    """Each dataset's newest schema fingerprint (by as-of time, then id), in one query."""
    newest = sa.func.row_number().over(
        partition_by=schema_snapshots.c.dataset,
        order_by=(schema_snapshots.c.as_of.desc(), schema_snapshots.c.id.desc()),
    )
    ranked = (
        sa.select(schema_snapshots.c.dataset, schema_snapshots.c.fingerprint, newest.label("rank"))
        .where(schema_snapshots.c.dataset.in_(datasets))
        .subquery()
    )
    rows = conn.execute(sa.select(ranked.c.dataset, ranked.c.fingerprint).where(ranked.c.rank == 1))
    return {dataset: fingerprint for dataset, fingerprint in rows}


def _observation_row(run_id: str, entry: ResultToRecord) -> dict[str, Any]:
    result = entry.result
    obs = result.observation
    details = {**obs.details, "stage_errors": result.stage_errors} if result.stage_errors else obs.details
    if entry.reason:
        details = {**details, "status_reason": redact(entry.reason)}
    return {
        "run_id": run_id,
        "dataset": obs.dataset,
        "source": obs.source,
        "as_of": obs.as_of,
        "observed_at": obs.observed_at,
        "duration_seconds": obs.duration_seconds,
        "status": entry.status.value,
        "row_count": obs.row_count,
        "row_count_method": obs.row_count_method,
        "last_updated": obs.last_updated,
        "last_updated_method": obs.last_updated_method,
        "freshness_lag_seconds": obs.freshness_lag_seconds,
        "columns": [c.to_dict() for c in obs.columns],
        "checks_failed": result.checks_failed,
        "error": redact(obs.error) if obs.error else None,
        "error_kind": obs.error_kind.value if obs.error_kind else None,
        "details": _json_safe(details),
    }


def _check_rows(run_id: str, observation_id: int, result: DatasetResult) -> list[dict[str, Any]]:
    return [
        {
            "run_id": run_id,
            "observation_id": observation_id,
            "dataset": c.dataset,
            "as_of": result.observation.as_of,
            "name": c.name,
            "check_type": c.check_type,
            "column_name": c.column,
            "outcome": c.outcome.value,
            "observed_value": c.observed_value,
            "threshold": c.threshold,
            "origin": c.origin,
            "message": redact(c.message) if c.message else c.message,
            "details": _json_safe(c.details),
        }
        for c in result.checks
    ]


def _profile_rows(run_id: str, observation_id: int, result: DatasetResult) -> list[dict[str, Any]]:
    profile = result.profile
    assert profile is not None
    rows = []
    for column in profile.columns:
        stats = column.stats
        rows.append(
            {
                "run_id": run_id,
                "observation_id": observation_id,
                "dataset": profile.dataset,
                "as_of": result.observation.as_of,
                "column_name": column.column,
                "column_type": column.data_type,
                "row_count": profile.row_count,
                "null_count": stats.get("null_count"),
                "null_ratio": stats.get("null_ratio"),
                "distinct_count": stats.get("distinct_count"),
                "distinct_method": profile.distinct_method,
                "min_value": None if stats.get("min") is None else str(stats.get("min")),
                "max_value": None if stats.get("max") is None else str(stats.get("max")),
                "mean": _finite(stats.get("mean")),
                "stddev": _finite(stats.get("stddev")),
                "sampled": profile.sampled,
                "sample": profile.sample,
                "window_start": profile.window_start,
                "window_end": profile.window_end,
                "stats": _json_safe(stats),
            }
        )
    return rows


def _finite(value: Any) -> float | None:
    if value is None:
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if number == number and number not in (float("inf"), float("-inf")) else None


def _json_safe(value: Any) -> Any:
    """JSON columns must not receive datetimes, decimals, NaN or infinities: convert them to text."""
    if isinstance(value, dict):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_safe(v) for v in value]
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    return str(value)
