"""Remembering where each incident was announced in Slack (`alert_threads`): the thread for updates, the
message to edit, and when the last alert went out (for `suppress_for`).

The rows are read through the read model (`store.read.find_thread`, `announced`, `last_alerts`), which
also says what they hold; this module writes them as messages are delivered.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa

from datahealth.core.results import utc_now
from datahealth.store import HistoryStore, read
from datahealth.store.tables import alert_threads


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
    thread = read.find_thread(store, incident_id, target)
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
