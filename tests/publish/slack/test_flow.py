"""Slack alerts from real monitoring runs over changing data (SQLite warehouse, fake Slack server).

The data goes stale, gets staler, Slack goes down, the data is fixed: the channels must show one message
per incident, the escalation in its thread, and each original edited to "Resolved", with nothing lost.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from datahealth.config import load_project
from datahealth.core.run import RunOptions
from datahealth.monitor.runner import run_monitor
from datahealth.store import HistoryStore, deliveries
from tests.support.fake_slack import FakeSlack
from tests.support.projects import write_project

TOKEN_ENV = "DH_TEST_FLOW_SLACK_TOKEN"
D0 = datetime(2026, 10, 5, 7, 0, tzinfo=UTC)
OPTIONS = RunOptions(profile=False, checks=False)


def day(n: float) -> datetime:
    return D0 + timedelta(days=n)


def load(db: Path, table: str, at: datetime) -> None:
    """A load of one row into `table` (orders or customers) at `at`."""
    quoted = {"orders": '"orders"', "customers": '"customers"'}[table]
    with sqlite3.connect(db) as conn:
        conn.execute(f"CREATE TABLE IF NOT EXISTS {quoted} (id INTEGER, loaded_at TIMESTAMP)")
        conn.execute(f"INSERT INTO {quoted} VALUES (?, ?)", (1, at.strftime("%Y-%m-%d %H:%M:%S")))  # noqa: S608


@pytest.fixture
def slack() -> Iterator[FakeSlack]:
    with FakeSlack() as fake:
        yield fake


def make(tmp_path: Path, slack: FakeSlack, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv(TOKEN_ENV, slack.token)
    return write_project(
        tmp_path,
        sources={"wh": {"kind": "sql", "url": "sqlite:///wh.db"}},
        datasets={
            "wh.orders": {
                "timestamp_column": "loaded_at",
                "owners": ["sales"],
                "sla": {"warn_after": "1d", "error_after": "2d"},
            },
            "wh.customers": {
                "timestamp_column": "loaded_at",
                "owners": ["crm-team"],
                "sla": {"error_after": "1d"},
            },
        },
        routing=[
            {"name": "crm", "match": {"owners": ["crm-team"]}, "slack_channel": "#crm-data"},
            {"name": "rest", "slack_channel": "#data-alerts"},
        ],
        publish={
            "prometheus": {"textfile": None},
            "slack": {
                "token_env": TOKEN_ENV,
                "base_url": slack.api_url,
                "retry_budget": "2s",
                "owner_mentions": {"crm-team": "<!subteam^S0CRM0001>"},
            },
        },
    )


def headers(slack: FakeSlack, channel: str) -> list[str]:
    return [m.blocks[0]["text"]["text"] for m in slack.top_level(channel)]


def test_incidents_from_real_runs_are_threaded_resolved_and_survive_an_outage(
    tmp_path: Path, slack: FakeSlack, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = make(tmp_path, slack, monkeypatch)
    db = root / "wh.db"
    load(db, "orders", day(0) - timedelta(hours=2))
    load(db, "customers", day(0) - timedelta(hours=2))
    project = load_project(root)

    run_monitor(project, as_of=day(0), options=OPTIONS)
    assert slack.messages == []  # fresh data: nothing to say

    run_monitor(project, as_of=day(1) + timedelta(hours=1), options=OPTIONS)  # 27 h without a load
    assert headers(slack, "#data-alerts") == [":large_orange_circle: Warn · wh.orders"]
    assert headers(slack, "#crm-data") == [":red_circle: Error · wh.customers"]
    [crm_message] = slack.top_level("#crm-data")
    assert "<!subteam^S0CRM0001>" in crm_message.text and "stale" in crm_message.text

    run_monitor(project, as_of=day(1) + timedelta(hours=3), options=OPTIONS)  # same state: quiet
    assert len(slack.messages) == 2

    run_monitor(project, as_of=day(2) + timedelta(hours=1), options=OPTIONS)  # 51 h: orders → error
    [orders_message] = slack.top_level("#data-alerts")
    [escalation] = slack.replies(orders_message)
    assert "Severity raised from warn to error" in escalation.text
    assert orders_message.blocks[0]["text"]["text"] == ":red_circle: Error · wh.orders"
    assert slack.replies(crm_message) == []

    slack.stop()  # Slack is down while customers are fixed
    load(db, "customers", day(3))
    summary = run_monitor(project, as_of=day(3) + timedelta(hours=1), options=OPTIONS)
    assert any("queued for the next run" in w for w in summary.warnings)
    store = HistoryStore.open(project.config.history.url, root)
    try:
        assert {d.target for d in deliveries.pending(store, "slack")} == {"#crm-data"}
        slack.start()
        load(db, "orders", day(4))
        load(db, "customers", day(4))
        summary = run_monitor(project, as_of=day(4) + timedelta(hours=1), options=OPTIONS)
        assert not summary.warnings
        assert deliveries.pending(store, "slack") == []
    finally:
        store.close()
    assert crm_message.blocks[0]["text"]["text"].startswith(":white_check_mark: Resolved · wh.customers")
    assert orders_message.blocks[0]["text"]["text"].startswith(":white_check_mark: Resolved · wh.orders")
    assert len(slack.top_level("#data-alerts")) == 1 and len(slack.top_level("#crm-data")) == 1
    assert "Resolved after" in slack.replies(orders_message)[-1].text
    updates = [r.body["channel"] for r in slack.calls("chat.update")]
    first_crm = updates.index(slack.channel_id("#crm-data"))
    assert slack.channel_id("#data-alerts") in updates[first_crm:]  # the queued resolve went out first
    assert json.dumps(crm_message.blocks).count("Resolved") >= 1
