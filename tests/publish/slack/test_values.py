"""Slack text a person can read: units on values, real relative times, no dead links, no surprise pings.

Against the local Slack Web API server (tests/support/fake_slack.py): what lands in the channel is what
the assertions read.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from datahealth.core.results import CheckOutcome, CheckResult, DatasetResult
from datahealth.publish.slack import blocks, values
from datahealth.publish.slack.publisher import publish_slack
from datahealth.rules.findings import Incident, IncidentStatus
from tests.support.fake_slack import FakeSlack
from tests.support.slack_scenarios import T0, Scenario, make_project, observation, opened

TOKEN_ENV = "DH_TEST_SLACK_TOKEN"


@pytest.fixture
def slack(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeSlack]:
    with FakeSlack() as fake:
        monkeypatch.setenv(TOKEN_ENV, fake.token)
        yield fake


def _scenario(tmp_path: Path, slack: FakeSlack, datasets: dict, **settings: object) -> Scenario:
    config = {"token_env": TOKEN_ENV, "base_url": slack.api_url, **settings}
    return Scenario(
        make_project(
            tmp_path, slack=config, datasets=datasets, routing=[{"name": "all", "slack_channel": "#dq"}]
        )
    )


def _check(check_type: str, value: float, **diagnostics: float) -> CheckResult:
    column = None if check_type in ("freshness", "row_count") else "email"
    details = {"diagnostics": diagnostics}
    if check_type == "freshness":
        details["unit"] = "hour"
    return CheckResult(
        "wh.orders",
        f"{check_type}_check",
        check_type,
        CheckOutcome.FAIL,
        column=column,
        observed_value=value,
        threshold="< 24 hours",
        details=details,
    )


def test_a_freshness_check_shows_hours_as_an_age_and_no_failing_rows(
    tmp_path: Path, slack: FakeSlack
) -> None:
    scenario = _scenario(tmp_path, slack, {"wh.orders": {"owners": ["data-eng"]}})
    try:
        incident, finding = scenario.incident(
            "wh.orders", "freshness_check", observed="31.5192", expected="< 24 hours"
        )
        result = DatasetResult(observation("wh.orders"), checks=[_check("freshness", 31.5192)])
        publish_slack(scenario.context([opened(incident, finding)], results=[result]))
    finally:
        scenario.close()
    [card] = slack.top_level("#dq")
    text = json.dumps(card.blocks)
    assert "*Observed*\\n1d 7h old" in text and "31.5192" not in text
    assert "Failing rows" not in text  # hours are not rows


def test_row_counting_checks_say_rows_and_share(tmp_path: Path, slack: FakeSlack) -> None:
    scenario = _scenario(tmp_path, slack, {"wh.orders": {}})
    try:
        incident, finding = scenario.incident("wh.orders", "missing_check", observed="1234")
        check = _check("missing", 1234, missing_count=1234, missing_percent=18.76, check_rows_tested=6578)
        result = DatasetResult(observation("wh.orders"), checks=[check])
        publish_slack(scenario.context([opened(incident, finding)], results=[result]))
    finally:
        scenario.close()
    text = json.dumps(slack.top_level("#dq")[0].blocks)
    assert "*Failing rows:* 1,234 rows (18.8% of 6,578)" in text


def test_a_new_alert_says_first_seen_and_an_old_one_how_long_it_has_been_open(
    tmp_path: Path, slack: FakeSlack
) -> None:
    scenario = _scenario(tmp_path, slack, {"wh.orders": {}, "wh.items": {}})
    try:
        new, f1 = scenario.incident("wh.orders", opened_at=T0)
        old, f2 = scenario.incident("wh.items", opened_at=T0 - timedelta(days=2, hours=3))
        publish_slack(scenario.context([opened(new, f1), opened(old, f2)], as_of=T0))
    finally:
        scenario.close()
    cards = {
        m.blocks[0]["text"]["text"].split(" · ")[-1]: json.dumps(m.blocks) for m in slack.top_level("#dq")
    }
    assert "first seen in this run" in cards["wh.orders"] and "0s ago" not in cards["wh.orders"]
    assert "open for 2d 3h" in cards["wh.items"]
    stamp = int(T0.timestamp())
    assert f"<!date^{stamp}^{{date_short_pretty}} {{time}}|{T0:%Y-%m-%d %H:%M} UTC>" in cards["wh.orders"]


def test_no_link_without_a_url_to_link_to(tmp_path: Path, slack: FakeSlack) -> None:
    scenario = _scenario(tmp_path, slack, {"wh.orders": {}})
    try:
        incident, finding = scenario.incident("wh.orders")
        publish_slack(
            scenario.context([opened(incident, finding)], flow_run_url="None/flow-runs/flow-run/abc")
        )
    finally:
        scenario.close()
    text = json.dumps(slack.top_level("#dq")[0].blocks)
    assert "None/flow-runs" not in text and "Prefect flow run" not in text


def test_owner_and_dataset_names_cannot_ping_or_inject_links(tmp_path: Path, slack: FakeSlack) -> None:
    datasets = {
        "wh.orders": {
            "owners": ["<!channel>", "<!here|here>", "<https://evil.example|click>", "U0123ABCD", "crm"]
        },
    }
    scenario = _scenario(tmp_path, slack, datasets, owner_mentions={"crm": "<!everyone>"})
    try:
        incident, finding = scenario.incident("wh.orders")
        publish_slack(scenario.context([opened(incident, finding)]))
    finally:
        scenario.close()
    [card] = slack.top_level("#dq")
    everything = card.text + json.dumps(card.blocks)
    for ping in ("<!channel>", "<!here", "<!everyone>", "<https://evil"):
        assert ping not in everything
    assert "&lt;!channel&gt;" in everything and "&lt;!everyone&gt;" in everything
    assert "<@U0123ABCD>" in everything  # a real user id still mentions


def test_thread_reply_and_digest_fallbacks_escape_dataset_names() -> None:
    item = Incident(
        id=1,
        fingerprint="f",
        dataset="wh.<!channel>",
        kind="check",
        subject="s",
        severity="warn",
        status=IncidentStatus.OPEN,
        title="t",
        message="",
        opened_at=T0,
        updated_at=T0,
        last_seen_at=T0,
    )
    reply = blocks.thread_reply(item, blocks.CardFacts(), "note")
    digest = blocks.digest("#dq", [blocks.DigestItem(item, blocks.CardFacts())], blocks.Links())
    assert "<!channel>" not in reply["text"] + json.dumps(reply["blocks"])
    assert "<!channel>" not in digest["text"] + json.dumps(digest["blocks"])


@pytest.mark.parametrize(
    ("check", "expected"),
    [
        (_check("freshness", 0.25), "15m old"),
        (_check("row_count", 1), "1 row"),
        (_check("row_count", 120000), "120,000 rows"),
        (
            _check("duplicate", 25, duplicate_count=25, duplicate_percent=0.38, check_rows_tested=6578),
            "25 rows (0.38% of 6,578)",
        ),
        (_check("aggregate", 0.015234), "0.01523"),
    ],
)
def test_observed_values_carry_their_unit(check: CheckResult, expected: str) -> None:
    assert values.observed_text(check) == expected
