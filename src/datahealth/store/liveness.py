"""Runs and deliveries left behind by a run that died: found, marked and reported by the next run.

A run killed mid-way (OOM, a deploy, Ctrl-C twice) never finishes its `runs` row, and a Slack message it
had claimed waits for the claim to expire. The next run looks once, at its start: a `running` row whose
process is gone (same host, pid no longer alive) or that has shown no sign of life for `stale_after`
(any host) is marked `interrupted`, with the time it was last seen (its newest observation, else its
start). A run on another machine that is still working keeps writing observations, so it is left alone.
"""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa

from datahealth.core.results import as_utc, utc_now
from datahealth.store.repository import HistoryStore
from datahealth.store.tables import observations, runs

RUNNING, INTERRUPTED = "running", "interrupted"
STALE_AFTER = timedelta(hours=6)  # no observation for this long: the run is gone, wherever it ran


@dataclass(frozen=True)
class InterruptedRun:
    run_id: str
    started_at: datetime
    last_seen: datetime

    def describe(self) -> str:
        return (
            f"run {self.run_id} (started {self.started_at:%Y-%m-%d %H:%M}Z) was interrupted; last seen "
            f"{self.last_seen:%Y-%m-%d %H:%M:%S}Z; marked {INTERRUPTED}"
        )


def owner() -> dict[str, Any]:
    """Who is running: kept in a run's row so the next run on this host can tell a dead one."""
    return {"host": socket.gethostname(), "pid": os.getpid()}


def mark_interrupted(
    store: HistoryStore, *, stale_after: timedelta = STALE_AFTER, now: datetime | None = None
) -> list[InterruptedRun]:
    """Mark runs that died while `running` as `interrupted`; returns them (oldest first)."""
    now = now or utc_now()
    # the newest observation of each running run, looked up per run (ix_observations_run), never grouped
    # over the whole history
    last_seen = (
        sa.select(sa.func.max(observations.c.observed_at))
        .where(observations.c.run_id == runs.c.id)
        .scalar_subquery()
    )
    query = (
        sa.select(runs.c.id, runs.c.started_at, runs.c.summary, last_seen.label("seen"))
        .where(runs.c.status == RUNNING)
        .order_by(runs.c.started_at)
    )
    found: list[InterruptedRun] = []
    with store.engine.begin() as conn:
        for row in conn.execute(query).mappings():
            started = as_utc(row["started_at"]) or now
            seen = max(started, as_utc(row["seen"]) or started)
            if not _dead(row["summary"], seen, now, stale_after):
                continue
            summary = {**(row["summary"] or {}), "interrupted": {"last_seen": seen.isoformat()}}
            updated = conn.execute(
                runs.update()
                .where(runs.c.id == row["id"], runs.c.status == RUNNING)
                .values(status=INTERRUPTED, finished_at=seen, summary=summary)
            )
            if updated.rowcount == 1:  # a concurrent run did not mark it first
                found.append(InterruptedRun(str(row["id"]), started, seen))
    return found


def _dead(summary: Any, seen: datetime, now: datetime, stale_after: timedelta) -> bool:
    who = (summary or {}).get("owner") if isinstance(summary, dict) else None
    if isinstance(who, dict) and who.get("host") == socket.gethostname() and isinstance(who.get("pid"), int):
        return not _alive(who["pid"])
    return now - seen > stale_after


CLAIM_PREFIX = "claimed by "


def claim_tag() -> str:
    """What a delivery's claim records about its claimant: host and pid."""
    who = owner()
    return f"{CLAIM_PREFIX}{who['host']}:{who['pid']}"


def claimant_dead(tag: str | None) -> bool:
    """Whether the process a claim tag names ran on this host and is gone (other hosts: unknown, False)."""
    if not tag or not tag.startswith(CLAIM_PREFIX):
        return False
    host, _, pid = tag.removeprefix(CLAIM_PREFIX).rpartition(":")
    return host == socket.gethostname() and pid.isdigit() and not _alive(int(pid))


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process: alive
        return True
    return True
