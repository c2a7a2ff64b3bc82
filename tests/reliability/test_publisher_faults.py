"""Every publisher down at once (Pushgateway, SMTP, Slack answering 500), then back (Slack rate-limiting).

The run must still finish and record everything; each outage is one readable warning on the run; the
report and the metrics textfile are still written; the email and the Slack alert wait in the history
store and go out, oldest first, in the first run after the services return, which also resolves the
incident that the data fix ended.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from datahealth.store import deliveries, read
from tests.reliability.world import (
    DUCKDB_WAREHOUSE,
    RECIPIENT,
    by_dataset,
    history,
    incidents,
    keyed_table,
    open_store,
    report_html,
    run,
    slack_headers,
    textfile_statuses,
    write_monitoring_project,
)
from tests.support.fake_slack import FakeSlack
from tests.support.ports import free_port
from tests.support.prometheus import PushgatewayStarter, parse_samples
from tests.support.smtp import SmtpStarter

pytestmark = pytest.mark.slow

STALE, FIXED = "2026-10-12T06:00:00Z", "2026-10-12T09:00:00Z"


def load(database: Path, at: str, first_id: int) -> None:
    con = duckdb.connect(str(database))
    con.execute("CREATE TABLE IF NOT EXISTS orders (id INTEGER, updated_at TIMESTAMP)")
    con.execute(
        "INSERT INTO orders SELECT range, ?::TIMESTAMP FROM range(?, ? + 10)", [at, first_id, first_id]
    )
    con.close()


def test_publishers_down_keep_the_run_whole_and_deliver_everything_once_back(
    tmp_path: Path, slack: FakeSlack, smtp_server: SmtpStarter, pushgateway: PushgatewayStarter
) -> None:
    database = tmp_path / "wh.duckdb"
    load(database, "2026-10-10 05:00:00", 0)
    gateway_port, smtp_port = free_port(), free_port()
    root = write_monitoring_project(
        tmp_path,
        DUCKDB_WAREHOUSE,
        {"wh.orders": keyed_table(sla={"error_after": "1d"})},
        slack=slack,
        smtp_port=smtp_port,
        pushgateway_url=f"http://127.0.0.1:{gateway_port}",
    )

    slack.fail_next(
        times=1000, status=500
    )  # Slack is up but failing: every attempt until the budget is spent
    down = run(root, STALE)
    assert by_dataset(down)["wh.orders"].status == "fail"  # stale by two days: an error-severity SLA breach
    warnings = " | ".join(down.warnings)
    assert len(down.warnings) == 3, down.warnings
    assert (
        f"cannot push metrics to the Pushgateway at http://127.0.0.1:{gateway_port}: connection refused"
        in warnings
    )
    assert "email: EmailDeliveryError: SMTP delivery through 127.0.0.1:" in warnings
    assert "1 report email kept pending" in warnings
    assert "slack: 1 message(s) queued for the next run" in warnings and "HTTP 500" in warnings
    assert textfile_statuses(root) == {"wh.orders": "fail"} and "wh.orders" in report_html(root)
    assert slack.messages == [] and {r.status for r in slack.requests} == {500}
    store = open_store(root)
    try:
        assert [d.kind for d in deliveries.pending(store, "email")] == ["report"]
        [queued] = deliveries.pending(store, "slack")
        assert queued.attempts == 1 and "HTTP 500" in (queued.last_error or "")
        latest = read.latest_run(store)
        assert latest is not None and latest.status == "completed"
        assert latest.summary["warnings"] == down.warnings  # the outage is on record, not only on screen
    finally:
        store.close()
    [incident] = incidents(root, "open")

    load(database, "2026-10-12 08:30:00", 10)  # the data is fixed while the services come back
    slack.clear_script()
    slack.fail_next(times=2, status=429, retry_after="0.2")  # back, but rate-limiting at first
    with (
        pushgateway(tmp_path / "pushgateway", port=gateway_port) as gateway,
        smtp_server(port=smtp_port) as smtp,
    ):
        back = run(root, FIXED)
        assert back.warnings == [], back.warnings
        status, body = gateway.get("/metrics")
        received = smtp.received
    assert status == 200
    pushed = {
        dict(labels)["dataset"]: value
        for (name, labels), value in parse_samples(body).items()
        if name == "datahealth_dataset_status"
    }
    assert pushed == {"wh.orders": 0.0}

    # the email the outage held back is superseded by the newer report: one email, not two near-identical
    assert [m.rcpt_tos for m in received] == [[RECIPIENT]]
    [subject] = (m.message["Subject"] for m in received)
    assert "all healthy" in subject and "2026-10-12 09:00" in subject
    assert [r.status for r in slack.requests if r.status != 500][:2] == [429, 429]
    assert slack_headers(slack) == [":white_check_mark: Resolved · wh.orders"]  # posted late, then resolved
    [message] = slack.top_level("#data-alerts")
    assert message.edits and message.edits[0]["blocks"][0]["text"]["text"].startswith(":red_circle: Error")
    assert incidents(root, "open") == [] and incidents(root)[0].id == incident.id
    store = open_store(root)
    try:
        counts = deliveries.counts(store)  # nothing pending; the superseded email was dropped, not sent
        assert counts == {"sent": counts["sent"], "failed": 1} and deliveries.pending(store, "email") == []
    finally:
        store.close()
    assert [o.status.value for o in history(root, ["wh.orders"])["wh.orders"]] == ["fail", "ok"]
