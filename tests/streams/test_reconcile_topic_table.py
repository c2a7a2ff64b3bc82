"""Did every event arrive? A Kafka topic (Tansu) against the warehouse table it is loaded into: a load that
dropped 3 % of yesterday's events is a finding naming both sides and the difference; a complete reload
resolves it."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

from tests.streams.scenario import Monitor
from tests.support.streams import KafkaTopic

EVENTS = 200
SUBJECT = "reconcile events.clicks"


def load(database: Path, timestamps: list[datetime]) -> None:
    with sqlite3.connect(database) as conn:
        conn.execute("CREATE TABLE IF NOT EXISTS events (id INTEGER, event_ts TIMESTAMP)")
        conn.executemany(
            "INSERT INTO events VALUES (?, ?)",
            [(i, ts.replace(tzinfo=None).isoformat(sep=" ")) for i, ts in enumerate(timestamps)],
        )


def test_a_topic_and_the_table_it_feeds_are_reconciled_per_day(tmp_path: Path, kafka_broker: str) -> None:
    today = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    yesterday = today - timedelta(days=1)
    step = timedelta(days=1) / EVENTS
    produced = [yesterday + step * (i + 0.5) for i in range(EVENTS)]
    topic = KafkaTopic(kafka_broker, partitions=2)
    topic.produce(5, at=yesterday - timedelta(hours=3), step_ms=1000, partition=0)  # the day before
    for i, partition in ((0, 0), (1, 1)):  # yesterday's events, spread over two partitions
        topic.produce(
            EVENTS // 2, at=produced[i], step_ms=int(step.total_seconds() * 2000), partition=partition
        )
    topic.produce(
        5, at=today + timedelta(minutes=10), step_ms=1000, partition=1
    )  # today's, outside the window
    database = tmp_path / "warehouse.db"
    dropped = set(range(0, EVENTS, 33))  # 7 of 200 events lost by the load: 3.5 %
    load(database, [ts for i, ts in enumerate(produced) if i not in dropped] + [today + timedelta(minutes=5)])
    monitor = Monitor(
        tmp_path,
        {
            "events": {"kind": "kafka", "bootstrap_servers": kafka_broker},
            "warehouse": {"kind": "sql", "url": f"sqlite:///{database}"},
        },
        {
            "events.clicks": {"topic": topic.name},
            "warehouse.events": {
                "table": "events",
                "timestamp_column": "event_ts",
                "anomaly": {"enabled": False},
                "reconcile": [{"against": "events.clicks", "period": "1d", "tolerance": "1%"}],
            },
        },
    )
    as_of = today + timedelta(hours=7)
    first = monitor.run(as_of, checks=True)
    [check] = [c for c in first.results["warehouse.events"].checks if c.check_type == "reconcile"]
    assert check.outcome == "fail"
    assert check.details["rows"] == EVENTS - len(dropped) and check.details["against_rows"] == EVENTS
    assert check.observed_value == -len(dropped)
    label = f"{yesterday:%Y-%m-%d}"
    assert check.message == (
        f"warehouse.events has 193 rows for {label}, events.clicks 200 messages: 7 fewer (3.5%); tolerance 1%"
    )
    [finding] = [f for f in first.evaluation.findings if f.subject == SUBJECT]
    assert finding.dataset == "warehouse.events" and finding.severity == "error"
    assert "events.clicks" in finding.message and "7 fewer" in finding.message
    assert first.event(SUBJECT) == "opened"
    stream = first.results["events.clicks"]  # a topic has no rows to profile or check: those stages skip it
    assert (stream.checks, stream.profile, stream.stage_errors) == ([], None, {})

    load(database, [produced[i] for i in sorted(dropped)])  # the missing events are reloaded
    second = monitor.run(as_of + timedelta(minutes=15), checks=True)
    [check] = [c for c in second.results["warehouse.events"].checks if c.check_type == "reconcile"]
    assert check.outcome == "pass" and check.details["rows"] == EVENTS
    assert second.event(SUBJECT) == "resolved"
