"""A webhook that answers "no such hook" and echoes its own path: no leak, no loss, one report per run.

Real Slack answers 404/410 for a removed webhook, and many proxies echo the request path in the body
(`Cannot POST /services/T000/B000/<token>`). Only the token makes a webhook URL secret, so the test
looks for the token (and the path that holds it) in everything a user or the history store keeps.
"""

from __future__ import annotations

import sqlite3
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from datahealth.cli import app
from datahealth.config import load_project
from datahealth.store import HistoryStore, deliveries
from datahealth.store.tables import deliveries as deliveries_table
from datahealth.store.tables import runs
from tests.support.fake_slack import FakeSlack
from tests.support.projects import write_project

WEBHOOK_ENV = "DH_TEST_DEAD_WEBHOOK"
TOKEN = f"WebhookToken{uuid.uuid4().hex[:12]}"
HOOK = f"T000/B000/{TOKEN}"
cli = CliRunner()


@pytest.fixture
def slack() -> Iterator[FakeSlack]:
    with FakeSlack() as fake:
        yield fake


def stale_project(root: Path, slack: FakeSlack, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Two stale tables (two incidents, two alerts) alerting through one webhook."""
    root.mkdir()
    with sqlite3.connect(root / "wh.db") as conn:
        for table in ("orders", "customers"):
            conn.execute(f"CREATE TABLE {table} (id INTEGER, loaded_at TIMESTAMP)")
            conn.execute(f"INSERT INTO {table} VALUES (1, '2026-10-01 00:00:00')")  # noqa: S608
    monkeypatch.setenv(WEBHOOK_ENV, slack.webhook_url(HOOK))
    return write_project(
        root,
        sources={"wh": {"kind": "sql", "url": "sqlite:///wh.db"}},
        datasets={
            "wh.orders": {"timestamp_column": "loaded_at", "sla": {"error_after": "1d"}},
            "wh.customers": {"timestamp_column": "loaded_at", "sla": {"error_after": "1d"}},
        },
        routing=[{"name": "all", "slack_channel": "#data-alerts"}],
        publish={
            "prometheus": {"textfile": None},
            "slack": {"webhook_url_env": WEBHOOK_ENV, "retry_budget": "2s", "timeout_seconds": 5},
        },
    )


def stored(root: Path) -> tuple[str, list[dict[str, object]]]:
    project = load_project(root)
    store = HistoryStore.open(project.config.history.url, project.root)
    try:
        with store.engine.connect() as conn:
            summaries = "\n".join(str(s) for s in conn.execute(sa.select(runs.c.summary)).scalars())
            rows = [dict(r) for r in conn.execute(sa.select(deliveries_table)).mappings()]
        return summaries, rows
    finally:
        store.close()


def test_a_404_echoing_the_webhook_path_leaks_nothing_and_drops_nothing(
    tmp_path: Path, slack: FakeSlack, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> None:
    root = stale_project(tmp_path / "project", slack, monkeypatch)
    slack.fail_next(times=20, status=404, body=f"Cannot POST /services/{HOOK}")
    args = ["run", "-p", str(root), "--no-prefect", "--as-of", "2026-10-05T06:00:00Z"]
    result = cli.invoke(app, args)
    assert result.exit_code == 0, result.output
    captured = capfd.readouterr()
    output = result.output + captured.out + captured.err
    summaries, rows = stored(root)

    assert [r.status for r in slack.requests] == [404]  # one attempt: the webhook is a config error
    assert output.count("configuration error: the incoming webhook for #data-alerts answered HTTP 404") == 1
    for where, text in {"output": output, "runs.summary": summaries, "deliveries": str(rows)}.items():
        assert TOKEN not in text, where
        assert HOOK not in text, where
    assert {r["status"] for r in rows} == {deliveries.PENDING} and len(rows) == 2  # kept, not dropped
    assert "answered HTTP 404" in str(rows[0]["last_error"])

    slack.clear_script()  # the webhook is fixed: the next run delivers what waited
    result = cli.invoke(app, [*args[:-1], "2026-10-05T07:00:00Z"])
    assert result.exit_code == 0, result.output
    assert len(slack.webhook_messages[HOOK]) == 2
    assert {r["status"] for r in stored(root)[1]} == {deliveries.SENT}
