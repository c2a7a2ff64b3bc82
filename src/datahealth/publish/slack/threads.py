"""Where each incident was announced in Slack (`alert_threads`): the thread for updates, the message to edit.

One row per (incident, destination). In bot mode it holds the channel id and message ts (chat.update
needs the id, not the name); a digest's members share the digest's ts. In webhook mode the ts is empty:
the row still says "people were told", which decides whether a resolved notice makes sense. The row's
`details` also keep when the last alert about the incident went out, for `suppress_for`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from datahealth.core.results import as_utc, utc_now
from datahealth.store import HistoryStore
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


def find(store: HistoryStore, incident_id: int | None, target: str) -> AlertThread | None:
    if incident_id is None:
        return None
    query = sa.select(alert_threads).where(
        alert_threads.c.incident_id == incident_id, alert_threads.c.channel == target
    )
    with store.engine.connect() as conn:
        row = conn.execute(query).mappings().first()
    return _thread(row) if row else None


def announced(store: HistoryStore, incident_ids: Iterable[int]) -> set[tuple[int, str]]:
    """(incident, destination) pairs that already got a top-level message."""
    ids = sorted(set(incident_ids))
    if not ids:
        return set()
    query = sa.select(alert_threads.c.incident_id, alert_threads.c.channel).where(
        alert_threads.c.incident_id.in_(ids)
    )
    with store.engine.connect() as conn:
        return {(int(i), str(c)) for i, c in conn.execute(query)}


def last_alerts(store: HistoryStore, fingerprints: Iterable[str]) -> dict[tuple[str, str], datetime]:
    """The newest alert time per (fingerprint, destination), across incidents (a re-opened problem counts)."""
    prints = sorted(set(fingerprints))
    if not prints:
        return {}
    query = (
        sa.select(incidents.c.fingerprint, alert_threads.c.channel, alert_threads.c.details)
        .join(incidents, incidents.c.id == alert_threads.c.incident_id)
        .where(incidents.c.fingerprint.in_(prints))
    )
    latest: dict[tuple[str, str], datetime] = {}
    with store.engine.connect() as conn:
        for fingerprint, channel, details in conn.execute(query):
            at = _parse_time((details or {}).get("last_alert_at"))
            key = (str(fingerprint), str(channel))
            if at is not None and (key not in latest or at > latest[key]):
                latest[key] = at
    return latest


def record(
    store: HistoryStore,
    incident_id: int,
    target: str,
    *,
    ts: str,
    channel_id: str | None,
    digest: bool,
    alert_at: datetime | None,
) -> None:
    """Remember where an incident was announced (replacing an older announcement in the same place)."""
    details: dict[str, Any] = {
        "channel_id": channel_id,
        "digest": digest,
        "last_alert_at": alert_at.isoformat() if alert_at else None,
    }
    with store.engine.begin() as conn:
        exists = conn.execute(
            sa.select(alert_threads.c.id).where(
                alert_threads.c.incident_id == incident_id, alert_threads.c.channel == target
            )
        ).scalar()
        if exists is None:
            conn.execute(
                alert_threads.insert().values(
                    incident_id=incident_id,
                    channel=target,
                    message_ts=ts,
                    created_at=utc_now(),
                    details=details,
                )
            )
        else:
            conn.execute(
                alert_threads.update()
                .where(alert_threads.c.id == exists)
                .values(message_ts=ts, details=details)
            )


def touch(store: HistoryStore, incident_id: int | None, target: str, alert_at: datetime) -> None:
    """Note that another alert about the incident went out now (for `suppress_for`)."""
    thread = find(store, incident_id, target)
    if thread is None or incident_id is None:
        return
    details = {
        "channel_id": thread.channel_id,
        "digest": thread.digest,
        "last_alert_at": alert_at.isoformat(),
    }
    with store.engine.begin() as conn:
        conn.execute(
            alert_threads.update()
            .where(alert_threads.c.incident_id == incident_id, alert_threads.c.channel == target)
            .values(details=details)
        )


def _thread(row: Any) -> AlertThread:
    details = row["details"] or {}
    return AlertThread(
        incident_id=int(row["incident_id"]),
        target=str(row["channel"]),
        ts=str(row["message_ts"]),
        channel_id=details.get("channel_id"),
        digest=bool(details.get("digest")),
        last_alert_at=_parse_time(details.get("last_alert_at")),
    )


def _parse_time(value: Any) -> datetime | None:
    if not value:
        return None
    try:
        return as_utc(datetime.fromisoformat(str(value)))
    except ValueError:
        return None
