"""Slack delivery against a local server speaking the Slack Web API (slack_sdk's base_url points at it).

Each test publishes runs with incident changes built the way evaluation builds them and asserts what a
user would see in the channels: one message per new incident, replies in its thread, the original
edited on resolve, routing, digests, and nothing lost when Slack is slow, failing or down.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from datahealth.publish import publish_run
from datahealth.publish.slack.publisher import publish_slack
from datahealth.rules.incidents import unverify_incident
from datahealth.store import deliveries
from tests.support.fake_slack import FakeSlack
from tests.support.slack_scenarios import (
    Scenario,
    changed,
    later,
    make_project,
    ongoing,
    opened,
    quiet,
    resolved,
)

TOKEN_ENV = "DH_TEST_SLACK_TOKEN"


@pytest.fixture
def slack() -> Iterator[FakeSlack]:
    with FakeSlack() as fake:
        yield fake


@pytest.fixture
def bot(
    tmp_path: Path, slack: FakeSlack, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Callable[..., Scenario]]:
    """Builds scenarios in bot-token mode against the fake server; keywords are extra `slack:` settings."""
    monkeypatch.setenv(TOKEN_ENV, slack.token)
    made: list[Scenario] = []

    def build(datasets: dict[str, Any] | None = None, **settings: Any) -> Scenario:
        config = {"token_env": TOKEN_ENV, "base_url": slack.api_url, **settings}
        made.append(Scenario(make_project(tmp_path / f"p{len(made)}", slack=config, datasets=datasets)))
        return made[-1]

    yield build
    for built in made:
        built.close()


@pytest.fixture
def scenario(bot: Callable[..., Scenario]) -> Scenario:
    return bot()


def header(message: Any) -> str:
    return str(message.blocks[0]["text"]["text"])


def test_one_message_per_new_incident_and_none_while_ongoing(scenario: Scenario, slack: FakeSlack) -> None:
    customers, f1 = scenario.incident("warehouse.customers")
    products, f2 = scenario.incident("warehouse.products", "duplicate_sku")
    context = scenario.context([opened(customers, f1), opened(products, f2)])
    publish_slack(context)
    crm, data = slack.top_level("#crm-data"), slack.top_level("#data-alerts")
    assert [header(m) for m in crm] == [":red_circle: Error · warehouse.customers"]
    assert [header(m) for m in data] == [":red_circle: Error · warehouse.products"]
    assert context.summary.details["slack"]["sent"] == 2 and not context.summary.warnings
    posts = slack.calls("chat.postMessage")
    assert all(r.headers["authorization"] == f"Bearer {slack.token}" for r in posts)
    assert all(r.body["text"] for r in posts)  # the notification fallback

    publish_slack(scenario.context([ongoing(customers, f1), ongoing(products, f2)], as_of=later(1)))
    assert len(slack.messages) == 2  # an unchanged incident stays quiet
    assert deliveries.counts(scenario.store) == {"sent": 2}


def test_change_replies_in_thread_and_resolve_edits_the_original(
    scenario: Scenario, slack: FakeSlack
) -> None:
    incident, finding = scenario.incident("warehouse.products", "row_count", severity="warn", observed="90")
    publish_slack(scenario.context([opened(incident, finding)]))
    [original] = slack.top_level("#data-alerts")
    assert "Warn · warehouse.products" in header(original)

    escalation = changed(incident, finding, severity="error", observed="40", at=later(1))
    publish_slack(scenario.context([escalation], as_of=later(1)))
    [reply] = slack.replies(original)
    assert "Severity raised from warn to error" in reply.text and reply.reply_broadcast
    assert "Error · warehouse.products" in header(original)  # the original shows the current state
    assert len(slack.top_level("#data-alerts")) == 1

    done = resolved(escalation.incident, later(5))
    publish_slack(scenario.context([done], as_of=later(5)))
    assert len(slack.top_level("#data-alerts")) == 1  # resolve edits, it does not post anew
    assert header(original).startswith(":white_check_mark: Resolved · warehouse.products")
    assert "after 5h" in json.dumps(original.blocks)
    assert len(original.edits) == 2
    replies = slack.replies(original)
    assert len(replies) == 2 and "Resolved after 5h" in replies[-1].text
    updates = slack.calls("chat.update")
    assert updates and all(r.body["channel"] == slack.channel_id("#data-alerts") for r in updates)


def test_could_not_verify_is_one_thread_reply_and_never_a_resolve(
    scenario: Scenario, slack: FakeSlack
) -> None:
    incident, finding = scenario.incident("warehouse.customers", "country.invalid")
    publish_slack(scenario.context([opened(incident, finding)]))
    [original] = slack.top_level("#crm-data")
    unverified = unverify_incident(incident, "checks/warehouse/customers.yml: bad key <!channel>", later(1))
    assert unverified is not None
    publish_slack(scenario.context([unverified], as_of=later(1)))
    [reply] = slack.replies(original)
    assert "Could not verify since" in reply.text and "customers.yml: bad key" in reply.text
    assert "<!channel>" not in reply.text  # the reason is escaped
    assert "Resolved" not in header(original) and len(slack.top_level("#crm-data")) == 1
    assert unverify_incident(unverified.incident, "again", later(2)) is None  # one reply, not one per run


def test_routing_sends_each_incident_to_its_channels(scenario: Scenario, slack: FakeSlack) -> None:
    purchases, f1 = scenario.incident("warehouse.purchases", "amount_positive")  # revenue error: two routes
    purchases_warn, f2 = scenario.incident("warehouse.purchases", "late", kind="freshness", severity="warn")
    clicks, f3 = scenario.incident("lake.clickstream", "sla", kind="freshness")
    customers, f4 = scenario.incident("warehouse.customers")
    publish_slack(
        scenario.context(
            [opened(purchases, f1), opened(purchases_warn, f2), opened(clicks, f3), opened(customers, f4)]
        )
    )

    def datasets_in(channel: str) -> list[str]:
        return sorted(
            header(m).split(" · ")[1] + "/" + header(m).split(" ")[1] for m in slack.top_level(channel)
        )

    assert datasets_in("#revenue-alerts") == ["warehouse.purchases/Error"]
    assert datasets_in("#data-alerts") == [
        "lake.clickstream/Error",
        "warehouse.purchases/Error",
        "warehouse.purchases/Warn",
    ]
    assert datasets_in("#crm-data") == ["warehouse.customers/Error"]


def test_digest_when_more_than_threshold_open_at_once(bot: Callable[..., Scenario], slack: FakeSlack) -> None:
    datasets = {f"warehouse.t{i}": {"owners": ["platform"]} for i in range(7)}
    scenario = bot(datasets={**datasets, "warehouse.customers": {"owners": ["crm-team"]}}, digest_threshold=3)
    made = [scenario.incident(name, severity="warn" if i % 2 else "error") for i, name in enumerate(datasets)]
    solo = scenario.incident("warehouse.customers")
    publish_slack(scenario.context([opened(i, f) for i, f in [*made, solo]]))
    [digest] = slack.top_level("#data-alerts")
    assert "7 new data incidents" in header(digest)
    body = json.dumps(digest.blocks, ensure_ascii=False)
    assert all(name in body for name in datasets) and "4 error · 3 warn" in body
    assert len(slack.top_level("#crm-data")) == 1  # under the threshold there: a normal message

    first, _ = made[0]
    publish_slack(scenario.context([resolved(first, later(2))], as_of=later(2)))
    [reply] = slack.replies(digest)  # members' updates go to the digest's thread
    assert "warehouse.t0" in json.dumps(reply.blocks) and "Resolved" in reply.text
    assert not digest.edits  # the digest itself is not rewritten


def test_rate_limit_with_fractional_retry_after_then_delivered(scenario: Scenario, slack: FakeSlack) -> None:
    incident, finding = scenario.incident("warehouse.products", "duplicate_sku")
    slack.fail_next(1, status=429, retry_after="1.5")
    context = scenario.context([opened(incident, finding)])
    publish_slack(context)
    attempts = slack.calls("chat.postMessage", ok_only=False)
    assert [r.status for r in attempts] == [429, 200]
    assert len(slack.top_level("#data-alerts")) == 1 and not context.summary.warnings


def test_server_errors_are_retried_with_backoff(scenario: Scenario, slack: FakeSlack) -> None:
    incident, finding = scenario.incident("warehouse.products", "duplicate_sku")
    slack.fail_next(2, status=500)
    publish_slack(scenario.context([opened(incident, finding)]))
    assert [r.status for r in slack.calls("chat.postMessage", ok_only=False)] == [500, 500, 200]
    assert len(slack.top_level("#data-alerts")) == 1
    assert deliveries.counts(scenario.store) == {"sent": 1}


def test_retries_stop_after_the_budget_and_the_message_waits(
    bot: Callable[..., Scenario], slack: FakeSlack
) -> None:
    scenario = bot(retry_budget="1s")
    incident, finding = scenario.incident("warehouse.products", "duplicate_sku")
    slack.fail_next(1000, status=503)
    context = scenario.context([opened(incident, finding)])
    publish_slack(context)
    attempts = slack.calls("chat.postMessage", ok_only=False)
    assert len(attempts) >= 2 and all(r.status == 503 for r in attempts)
    [waiting] = deliveries.pending(scenario.store, "slack")
    assert waiting.attempts == 1 and "503" in (waiting.last_error or "")
    assert context.summary.warnings and "1 message(s) queued for the next run" in context.summary.warnings[0]


def test_outage_keeps_messages_pending_and_next_run_delivers_them_first(
    scenario: Scenario, slack: FakeSlack
) -> None:
    first, f1 = scenario.incident("warehouse.products", "duplicate_sku")
    second, f2 = scenario.incident("lake.clickstream", "sla", kind="freshness")
    slack.stop()  # Slack unreachable: connection refused
    context = scenario.context([opened(first, f1), opened(second, f2)])
    warnings = publish_run(context)  # the run goes on; the publisher reports, it does not raise
    assert warnings == []
    assert context.summary.warnings and "2 message(s) queued" in context.summary.warnings[0]
    queued = deliveries.pending(scenario.store, "slack")
    assert [d.incident_id for d in queued] == [first.id, second.id]

    slack.start()
    third, f3 = scenario.incident("warehouse.purchases", "amount_positive", severity="warn")
    escalation = changed(first, f1, observed="30", at=later(1))
    later_context = scenario.context([opened(third, f3), escalation], as_of=later(1))
    publish_slack(later_context)
    channel = slack.top_level("#data-alerts")
    assert [header(m).split(" · ")[1] for m in channel] == [
        "warehouse.products",
        "lake.clickstream",
        "warehouse.purchases",
    ]
    [reply] = slack.replies(channel[0])  # the change found the thread its parent got in this very run
    assert "now observed 30" in reply.text
    assert deliveries.pending(scenario.store, "slack") == [] and not later_context.summary.warnings


def test_acknowledged_and_suppressed_incidents_stay_quiet(
    bot: Callable[..., Scenario], slack: FakeSlack
) -> None:
    scenario = bot(suppress_for="6h")
    incident, finding = scenario.incident("warehouse.products", "duplicate_sku", severity="warn")
    publish_slack(scenario.context([opened(incident, finding)]))
    assert len(slack.messages) == 1
    publish_slack(scenario.context([changed(incident, finding, observed="15")], as_of=later(2)))
    assert len(slack.messages) == 1  # within suppress_for of the last alert
    publish_slack(scenario.context([changed(incident, finding, observed="18")], as_of=later(7)))
    assert len(slack.messages) == 2

    acked = quiet(incident, until=later(12))
    context = scenario.context([changed(acked, finding, severity="error")], as_of=later(10))
    publish_slack(context)
    assert len(slack.messages) == 2
    assert context.summary.details["slack"]["skipped"] == {"acknowledged or snoozed": 1}
    publish_slack(scenario.context([changed(acked, finding, severity="error")], as_of=later(14)))
    assert len(slack.messages) == 3  # the acknowledgement expired


def test_webhook_mode_posts_and_sends_a_resolved_message(
    tmp_path: Path, slack: FakeSlack, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DH_TEST_WEBHOOK", slack.webhook_url("T1/B1/default"))
    monkeypatch.setenv("DH_TEST_WEBHOOK_CRM", slack.webhook_url("T1/B2/crm"))
    scenario = Scenario(
        make_project(
            tmp_path,
            slack={"webhook_url_env": "DH_TEST_WEBHOOK", "webhooks": {"#crm-data": "DH_TEST_WEBHOOK_CRM"}},
        )
    )
    try:
        products, f1 = scenario.incident("warehouse.products", "duplicate_sku")
        customers, f2 = scenario.incident("warehouse.customers")
        slack.fail_next(1, status=429, retry_after="0.5")
        publish_slack(scenario.context([opened(products, f1), opened(customers, f2)]))
        default, crm = slack.webhook_messages["T1/B1/default"], slack.webhook_messages["T1/B2/crm"]
        assert len(default) == 1 and "warehouse.products" in default[0]["text"]
        assert len(crm) == 1 and "warehouse.customers" in crm[0]["text"]

        publish_slack(scenario.context([resolved(products, later(3))], as_of=later(3)))
        assert len(default) == 2 and default[1]["text"].startswith("[resolved]")
        assert "Resolved · warehouse.products" in default[1]["blocks"][0]["text"]["text"]
        assert slack.calls("chat.update") == [] and slack.calls("chat.postMessage") == []
    finally:
        scenario.close()


def test_no_slack_configured_writes_a_preview(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DH_UNSET_TOKEN", raising=False)
    scenario = Scenario(make_project(tmp_path, slack={"token_env": "DH_UNSET_TOKEN"}))
    try:
        incident, finding = scenario.incident("warehouse.customers")
        purchases, f2 = scenario.incident("warehouse.purchases", "late", kind="freshness", severity="warn")
        context = scenario.context([opened(incident, finding), opened(purchases, f2)])
        publish_slack(context)
        publish_slack(
            scenario.context(
                [resolved(incident, later(2)), changed(purchases, f2, severity="error")], as_of=later(2)
            )
        )
    finally:
        scenario.close()
    preview = json.loads((tmp_path / "reports" / "slack-preview.json").read_text())
    assert "DH_UNSET_TOKEN is not set" in preview["note"]
    kinds = [(m["channel"], m["kind"]) for m in preview["messages"]]
    assert kinds == [
        ("#crm-data", "post"),
        ("#data-alerts", "post"),  # first run
        ("#revenue-alerts", "post"),  # now an error: news for the revenue channel
        ("#crm-data", "update"),
        ("#crm-data", "reply"),
        ("#data-alerts", "update"),
        ("#data-alerts", "reply"),
    ]
    assert "Error · warehouse.customers" in preview["messages"][0]["rendered"]
    assert context.artifacts["slack_preview"].endswith("slack-preview.json")
    assert context.summary.details["slack"]["mode"] == "preview" and not context.summary.warnings
    assert deliveries.counts(scenario.store) == {}


def test_token_never_reaches_logs_or_warnings(
    scenario: Scenario, slack: FakeSlack, caplog: pytest.LogCaptureFixture
) -> None:
    incident, finding = scenario.incident("warehouse.products", "duplicate_sku")
    slack.fail_next(1, status=429, retry_after="0.2")
    with caplog.at_level(logging.DEBUG):
        publish_slack(scenario.context([opened(incident, finding)]))
        slack.stop()
        context = scenario.context([resolved(incident, later(1))], as_of=later(1))
        publish_slack(context)
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "Sending a request" in logged and "Connection refused" in logged  # the SDK and we did log
    assert slack.token not in logged and slack.token not in json.dumps(context.summary.to_dict())


def test_webhook_url_never_reaches_logs(
    tmp_path: Path, slack: FakeSlack, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    secret_path = "T9/B9/s3cr3tw3bh00kpath"
    monkeypatch.setenv("DH_TEST_WEBHOOK", slack.webhook_url(secret_path))
    scenario = Scenario(make_project(tmp_path, slack={"webhook_url_env": "DH_TEST_WEBHOOK"}))
    try:
        incident, finding = scenario.incident("warehouse.products", "duplicate_sku")
        slack.fail_next(1, status=500)
        with caplog.at_level(logging.DEBUG):
            publish_slack(scenario.context([opened(incident, finding)]))
    finally:
        scenario.close()
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert len(slack.webhook_messages[secret_path]) == 1
    assert "Sending a request - url: ***" in logged and "s3cr3tw3bh00kpath" not in logged


def test_channel_the_bot_cannot_post_to_holds_only_that_channel(scenario: Scenario, slack: FakeSlack) -> None:
    slack.only_channels({"#data-alerts"})
    customers, f1 = scenario.incident("warehouse.customers")  # → #crm-data, which does not exist
    products, f2 = scenario.incident("warehouse.products", "duplicate_sku")
    context = scenario.context([opened(customers, f1), opened(products, f2)])
    publish_slack(context)
    assert len(slack.top_level("#data-alerts")) == 1
    [waiting] = deliveries.pending(scenario.store, "slack")
    assert waiting.target == "#crm-data" and "channel_not_found" in (waiting.last_error or "")
    assert "channel_not_found" in context.summary.warnings[0]


def test_a_message_another_run_is_sending_is_not_sent_twice(scenario: Scenario, slack: FakeSlack) -> None:
    products, f1 = scenario.incident("warehouse.products", "duplicate_sku")
    customers, f2 = scenario.incident("warehouse.customers")
    slack.stop()
    publish_slack(scenario.context([opened(products, f1), opened(customers, f2)]))
    slack.start()
    held, crm = sorted(deliveries.pending(scenario.store, "slack"), key=lambda d: d.target != "#data-alerts")
    assert deliveries.claim(scenario.store, held.id)  # a concurrent run is sending this one

    publish_slack(scenario.context([], as_of=later(1)))
    assert slack.top_level("#data-alerts") == [] and len(slack.top_level("#crm-data")) == 1
    assert deliveries.counts(scenario.store) == {"sending": 1, "sent": 1}

    assert not deliveries.claim(scenario.store, held.id)  # claimed once only
    with scenario.store.engine.begin() as conn:  # that run died: its claim runs out
        conn.execute(deliveries.deliveries.update().values(next_attempt_at=later(-1)))
    publish_slack(scenario.context([], as_of=later(2)))
    assert len(slack.top_level("#data-alerts")) == 1 and deliveries.counts(scenario.store) == {"sent": 2}


def test_preview_forgets_runs_of_a_reset_history(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DH_UNSET_TOKEN", raising=False)
    stale = {"run_id": "run-of-a-deleted-history", "channel": "#crm-data", "kind": "post", "announces": [1]}
    (tmp_path / "reports").mkdir()
    (tmp_path / "reports" / "slack-preview.json").write_text(json.dumps({"messages": [stale]}))
    scenario = Scenario(make_project(tmp_path, slack={"token_env": "DH_UNSET_TOKEN"}))
    try:
        incident, finding = scenario.incident("warehouse.customers")  # id 1 again, in the new history
        publish_slack(scenario.context([opened(incident, finding)]))
    finally:
        scenario.close()
    preview = json.loads((tmp_path / "reports" / "slack-preview.json").read_text())
    assert [(m["incident_id"], m["kind"]) for m in preview["messages"]] == [(1, "post")]


def test_a_deleted_original_gets_a_fresh_message(scenario: Scenario, slack: FakeSlack) -> None:
    incident, finding = scenario.incident("warehouse.products", "row_count", severity="warn")
    publish_slack(scenario.context([opened(incident, finding)]))
    [original] = slack.top_level("#data-alerts")
    slack.delete(original)
    escalation = changed(incident, finding, severity="error", at=later(1))
    context = scenario.context([escalation], as_of=later(1))
    publish_slack(context)
    [fresh] = slack.top_level("#data-alerts")
    assert "Error · warehouse.products" in header(fresh) and fresh.thread_ts is None
    assert "Severity raised" in json.dumps(slack.calls("chat.postMessage")[-1].body["blocks"])
    publish_slack(scenario.context([resolved(escalation.incident, later(2))], as_of=later(2)))
    assert (
        header(fresh).startswith(":white_check_mark: Resolved") and len(slack.top_level("#data-alerts")) == 1
    )
    assert deliveries.counts(scenario.store) == {"sent": 5}


def test_resolve_reaches_every_channel_that_heard_of_it(scenario: Scenario, slack: FakeSlack) -> None:
    incident, finding = scenario.incident("warehouse.purchases", "amount_positive")  # error: two channels
    publish_slack(scenario.context([opened(incident, finding)]))
    assert len(slack.top_level("#revenue-alerts")) == 1 and len(slack.top_level("#data-alerts")) == 1
    calmer = changed(incident, finding, severity="warn", at=later(1))  # revenue routes only errors
    publish_slack(scenario.context([calmer], as_of=later(1)))
    publish_slack(scenario.context([resolved(calmer.incident, later(2))], as_of=later(2)))
    for channel in ("#revenue-alerts", "#data-alerts"):
        [message] = slack.top_level(channel)
        assert header(message).startswith(":white_check_mark: Resolved"), channel
        assert "Severity lowered from error to warn" in slack.replies(message)[0].text
