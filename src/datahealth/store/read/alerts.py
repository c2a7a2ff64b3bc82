"""Where incidents were announced in Slack (`alert_threads`), as the Slack publisher plans and threads by.

One row per (incident, destination). In bot mode it holds the channel id and message ts (chat.update
needs the id, not the name); a digest's members share the digest's ts. In webhook mode the ts is empty:
the row still says "people were told". Its `details` keep when the last alert about the incident went
out, for `suppress_for`. The Slack publisher writes these rows (`publish/slack/threads.py`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from datahealth.store.read.base import Reader, as_datetime, as_dict, connect
from datahealth.store.tables import alert_threads, incidents


@dataclass(frozen=True)
class AlertThread:
    incident_id: int
    target: str
    ts: str
    channel_id: str | None
    digest: bool
    last_alert_at: datetime | None

    @property
    def has_thread(self) -> bool:
        return bool(self.ts)


def alert_thread(row: Any) -> AlertThread:
    """The one mapping of an `alert_threads` row."""
    details = as_dict(row["details"])
    return AlertThread(
        incident_id=int(row["incident_id"]),
        target=str(row["channel"]),
        ts=str(row["message_ts"]),
        channel_id=details.get("channel_id"),
        digest=bool(details.get("digest")),
        last_alert_at=alert_time(details.get("last_alert_at")),
    )


def alert_time(value: Any) -> datetime | None:
    """An alert time kept as ISO text in `details` (None when missing or unreadable)."""
    try:
        return as_datetime(value) if value else None
    except ValueError:
        return None


def find_thread(db: Reader, incident_id: int | None, target: str) -> AlertThread | None:
    """Where `incident_id` was announced in `target` (None: it was not)."""
    if incident_id is None:
        return None
    query = sa.select(alert_threads).where(
        alert_threads.c.incident_id == incident_id, alert_threads.c.channel == target
    )
    with connect(db) as conn:
        row = conn.execute(query).mappings().first()
    return alert_thread(row) if row else None


def announced(db: Reader, incident_ids: Iterable[int]) -> set[tuple[int, str]]:
    """(incident, destination) pairs that already got a top-level message."""
    ids = sorted(set(incident_ids))
    if not ids:
        return set()
    query = sa.select(alert_threads.c.incident_id, alert_threads.c.channel).where(
        alert_threads.c.incident_id.in_(ids)
    )
    with connect(db) as conn:
        return {(int(i), str(c)) for i, c in conn.execute(query)}


def last_alerts(db: Reader, fingerprints: Iterable[str]) -> dict[tuple[str, str], datetime]:
    """The newest alert time per (fingerprint, destination), across incidents (a re-opened problem counts)."""
    prints = sorted(set(fingerprints))
    if not prints:
        return {}
    query = (
        sa.select(incidents.c.fingerprint, alert_threads)
        .join(incidents, incidents.c.id == alert_threads.c.incident_id)
        .where(incidents.c.fingerprint.in_(prints))
    )
    latest: dict[tuple[str, str], datetime] = {}
    with connect(db) as conn:
        for row in conn.execute(query).mappings():
            thread = alert_thread(row)
            key = (str(row["fingerprint"]), thread.target)
            if thread.last_alert_at is not None and (key not in latest or thread.last_alert_at > latest[key]):
                latest[key] = thread.last_alert_at
    return latest
