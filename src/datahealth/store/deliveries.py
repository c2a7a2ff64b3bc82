"""Pending deliveries: alerts and emails that could not be sent yet are kept here and retried in order.

A delivery is enqueued before the first attempt, so a crash between "decided to alert" and "sent" loses
nothing; each publisher drains its channel's queue (oldest first) at the start of its next run.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa

from datahealth.core.redaction import redact
from datahealth.core.results import as_utc, utc_now
from datahealth.store import liveness
from datahealth.store.repository import HistoryStore
from datahealth.store.tables import deliveries

PENDING, SENT, FAILED = "pending", "sent", "failed"
SENDING = "sending"  # claimed by a run that is sending it right now (see `claim`)


@dataclass(frozen=True)
class Delivery:
    id: int
    channel: str
    target: str
    kind: str
    incident_id: int | None
    run_id: str | None
    payload: dict[str, Any]
    status: str
    attempts: int
    last_error: str | None
    created_at: datetime
    external_ref: str | None


def enqueue(
    store: HistoryStore,
    *,
    channel: str,
    target: str,
    kind: str,
    payload: dict[str, Any],
    incident_id: int | None = None,
    run_id: str | None = None,
) -> int:
    with store.engine.begin() as conn:
        key = conn.execute(
            deliveries.insert().values(
                channel=channel,
                target=target,
                kind=kind,
                payload=payload,
                incident_id=incident_id,
                run_id=run_id,
                status=PENDING,
                attempts=0,
                created_at=utc_now(),
            )
        ).inserted_primary_key
        assert key is not None  # an INSERT always has one
        return int(key[0])


def pending(store: HistoryStore, channel: str, limit: int = 500) -> list[Delivery]:
    """Undelivered items of a channel, oldest first (delivery order is creation order)."""
    query = (
        sa.select(deliveries)
        .where(deliveries.c.channel == channel, deliveries.c.status == PENDING)
        .order_by(deliveries.c.created_at, deliveries.c.id)
        .limit(limit)
    )
    with store.engine.connect() as conn:
        return [_delivery(row) for row in conn.execute(query).mappings()]


def mark_sent(store: HistoryStore, delivery_id: int, external_ref: str | None = None) -> None:
    with store.engine.begin() as conn:
        conn.execute(
            deliveries.update()
            .where(deliveries.c.id == delivery_id)
            .values(
                status=SENT, sent_at=utc_now(), external_ref=external_ref, attempts=deliveries.c.attempts + 1
            )
        )


def mark_attempt_failed(store: HistoryStore, delivery_id: int, error: str, *, give_up: bool = False) -> None:
    """Record a failed attempt; the item stays pending (retried next run) unless `give_up`."""
    with store.engine.begin() as conn:
        conn.execute(
            deliveries.update()
            .where(deliveries.c.id == delivery_id)
            .values(
                status=FAILED if give_up else PENDING,
                last_error=redact(error)[:2000],
                external_ref=None,
                attempts=deliveries.c.attempts + 1,
            )
        )


def claim(store: HistoryStore, delivery_id: int, hold: timedelta = timedelta(minutes=10)) -> bool:
    """Take a pending delivery for sending; False when another run got it first.

    Two runs can drain the same queue at once (a frequent tier overlapping the daily one): the claim keeps
    them from sending one message twice. A claim expires after `hold` (kept in `next_attempt_at`), so a
    run that died mid-send does not strand the message: `release_expired` puts it back in the queue.
    """
    now = utc_now()
    with store.engine.begin() as conn:
        result = conn.execute(
            deliveries.update()
            .where(deliveries.c.id == delivery_id, deliveries.c.status == PENDING)
            .values(status=SENDING, next_attempt_at=now + hold, external_ref=liveness.claim_tag())
        )
        return result.rowcount == 1


def release_expired(store: HistoryStore, channel: str) -> int:
    """Put deliveries back in the queue whose claim ran out or whose claimant died; returns how many.

    A claim made on this host by a process that is gone is released at once (the run was killed
    mid-send); a claim from another host waits for its `hold` to run out.
    """
    claimed = sa.select(deliveries.c.id, deliveries.c.external_ref).where(
        deliveries.c.channel == channel, deliveries.c.status == SENDING
    )
    with store.engine.begin() as conn:
        dead = [row.id for row in conn.execute(claimed) if liveness.claimant_dead(row.external_ref)]
        stale = sa.or_(deliveries.c.next_attempt_at < utc_now(), deliveries.c.id.in_(dead))
        result = conn.execute(
            deliveries.update()
            .where(deliveries.c.channel == channel, deliveries.c.status == SENDING, stale)
            .values(status=PENDING, external_ref=None)
        )
        return int(result.rowcount or 0)


def claimed_targets(store: HistoryStore, channel: str) -> set[str]:
    """Targets another run is sending to right now (their later messages must wait to keep the order)."""
    query = (
        sa.select(deliveries.c.target)
        .where(deliveries.c.channel == channel, deliveries.c.status == SENDING)
        .distinct()
    )
    with store.engine.connect() as conn:
        return {str(target) for target in conn.execute(query).scalars()}


def counts(store: HistoryStore) -> dict[str, int]:
    query = sa.select(deliveries.c.status, sa.func.count()).group_by(deliveries.c.status)
    with store.engine.connect() as conn:
        return {status: int(n) for status, n in conn.execute(query)}


def _delivery(row: Any) -> Delivery:
    return Delivery(
        id=row["id"],
        channel=row["channel"],
        target=row["target"],
        kind=row["kind"],
        incident_id=row["incident_id"],
        run_id=row["run_id"],
        payload=row["payload"] or {},
        status=row["status"],
        attempts=row["attempts"],
        last_error=row["last_error"],
        created_at=as_utc(row["created_at"]) or utc_now(),
        external_ref=row["external_ref"],
    )
