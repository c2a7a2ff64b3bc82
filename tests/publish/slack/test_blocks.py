"""Slack message building: what a card shows, what it never shows, and Slack's size limits."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from datahealth.core.results import CheckOutcome, CheckResult, DatasetResult
from datahealth.publish.slack import blocks
from datahealth.publish.slack.blocks import CardFacts, DigestItem, Evidence, Links
from datahealth.publish.slack.client import parse_retry_after
from datahealth.publish.slack.plan import PlanState, plan_messages
from datahealth.rules.findings import Incident, IncidentStatus
from tests.support.slack_scenarios import T0, Scenario, make_project, observation, opened

OPENED_AT = datetime(2026, 10, 5, 5, 0, tzinfo=UTC)


def incident(**overrides: object) -> Incident:
    fields: dict[str, object] = dict(
        id=7,
        fingerprint="warehouse.customers|check|missing_email",
        dataset="warehouse.customers",
        kind="check",
        subject="missing_email",
        severity="error",
        status=IncidentStatus.OPEN,
        title="warehouse.customers: check missing_email failed",
        message="12 rows have no email <script>",
        opened_at=OPENED_AT,
        updated_at=OPENED_AT,
        last_seen_at=OPENED_AT,
    )
    fields.update(overrides)
    return Incident(**fields)  # type: ignore[arg-type]


FACTS = CardFacts(
    observed="12",
    expected="0",
    owners=("<!subteam^S0CRM>",),
    evidence=Evidence(failing_rows="12", columns=("email",)),
    links=Links("http://prefect.local/runs/flow-run/abc", "https://reports.example.com/latest.html"),
)


def all_text(message: dict) -> str:
    return json.dumps(message, ensure_ascii=False)


def test_card_says_severity_dataset_what_observed_expected_since_owners_and_links() -> None:
    card = blocks.incident_card(incident(), FACTS, as_of=OPENED_AT + timedelta(hours=2))
    rendered = blocks.as_text(card)
    assert card["blocks"][0]["type"] == "header"
    assert "Error · warehouse.customers" in card["blocks"][0]["text"]["text"]
    assert "check missing_email failed" in rendered
    assert "*Observed*: 12" in rendered and "*Expected*: 0" in rendered
    assert "2026-10-05 05:00 UTC (open for 2h)" in rendered
    assert "<!subteam^S0CRM>" in rendered
    assert "<http://prefect.local/runs/flow-run/abc|Prefect flow run>" in rendered
    assert "<https://reports.example.com/latest.html|Data health report>" in rendered
    assert "&lt;script&gt;" in rendered and "<script>" not in rendered  # data text cannot inject markup
    assert card["text"].startswith("[error] *warehouse.customers*: check missing_email failed (observed 12")
    assert "<!subteam^S0CRM>" in card["text"]  # the notification mentions the owners


def test_resolved_card_shows_duration_and_no_mentions() -> None:
    done = incident(status=IncidentStatus.RESOLVED, resolved_at=OPENED_AT + timedelta(hours=26))
    card = blocks.incident_card(done, FACTS, as_of=OPENED_AT + timedelta(hours=26))
    assert "Resolved · warehouse.customers" in card["blocks"][0]["text"]["text"]
    assert "after 1d 2h" in blocks.as_text(card)
    assert card["text"].startswith("[resolved]") and "subteam" not in card["text"]


def test_mentions_from_mapping_ids_or_plain_names() -> None:
    assert blocks.mention("crm-team", {"crm-team": "<!subteam^S1>"}) == "<!subteam^S1>"
    assert blocks.mention("U0123ABCD", {}) == "<@U0123ABCD>"
    assert blocks.mention("S0123ABCD", {}) == "<!subteam^S0123ABCD>"
    assert blocks.mention("web-analytics", {}) == "@web-analytics"
    assert blocks.mention("crm-team", {"crm-team": "<!subteam^S1>"}, enabled=False) == "crm-team"


def test_digest_of_many_incidents_respects_slack_limits() -> None:
    items = [
        DigestItem(incident(id=i, dataset=f"warehouse.t{i:03d}", title="x" * 1000), FACTS) for i in range(400)
    ]
    message = blocks.digest("#data-alerts", items, Links())
    assert len(message["blocks"]) <= blocks.MAX_BLOCKS
    texts = [b["text"]["text"] for b in message["blocks"] if "text" in b]
    assert all(len(t) <= blocks.MAX_TEXT for t in texts)
    assert len(message["text"]) <= blocks.MAX_TEXT
    shown = sum(t.count("• ") for t in texts)
    assert 0 < shown < 400
    assert f"... and {400 - shown} more incidents" in all_text(message)


def test_fit_truncates_long_texts_and_too_many_blocks() -> None:
    message = blocks.fit({"text": "y" * 5000, "blocks": [blocks.section("z" * 4000) for _ in range(70)]})
    assert len(message["blocks"]) == 50 and "... and 21 more" in message["blocks"][-1]["text"]["text"]
    assert len(message["text"]) <= 3000 and "more characters" in message["text"]
    assert all(len(b["text"]["text"]) <= 3000 for b in message["blocks"])


def test_evidence_is_counts_and_columns_never_row_values(tmp_path: Path) -> None:
    check = CheckResult(
        "warehouse.customers", "missing_email", "missing", CheckOutcome.FAIL, column="email", observed_value=2
    )
    scenario = Scenario(make_project(tmp_path, datasets={"warehouse.customers": {}}, routing=[]))
    try:
        incident_, finding = scenario.incident("warehouse.customers", observed="2")
        results = [DatasetResult(observation("warehouse.customers"), checks=[check])]
        context = scenario.context([opened(incident_, finding)], results=results)
        plan = plan_messages(context, PlanState(threads=True, announced=None, last_alerts={}))
    finally:
        scenario.close()
    payload = all_text(plan.messages[0].message)
    assert "Failing rows:* 2 rows" in payload and "`email`" in payload
    assert "Sample" not in payload


def test_report_link_from_base_url_and_flow_run_url(tmp_path: Path) -> None:
    project = make_project(tmp_path, report={"directory": "reports", "base_url": "https://dq.example.com/r/"})
    scenario = Scenario(project)
    try:
        incident_, finding = scenario.incident("lake.clickstream", kind="freshness", subject="sla")
        context = scenario.context(
            [opened(incident_, finding)],
            flow_run_url="http://127.0.0.1:4200/runs/flow-run/1",
            artifacts={"report": str(tmp_path / "reports" / "2026-10-05.html")},
        )
        plan = plan_messages(context, PlanState(threads=True, announced=None, last_alerts={}))
    finally:
        scenario.close()
    text = all_text(plan.messages[0].message)
    assert "https://dq.example.com/r/2026-10-05.html#ds=lake.clickstream|Data health report" in text
    assert "http://127.0.0.1:4200/runs/flow-run/1|Prefect flow run" in text


def test_retry_after_values() -> None:
    assert parse_retry_after("1.5") == 1.5
    assert parse_retry_after("30") == 30.0
    assert parse_retry_after(" 0.25 ") == 0.25
    assert parse_retry_after("-3") == 0.0
    assert (
        parse_retry_after("soon") is None
        and parse_retry_after(None) is None
        and parse_retry_after("nan") is None
    )
    now = T0
    assert parse_retry_after("Mon, 05 Oct 2026 07:00:10 GMT", now=now) == 10.0


def test_change_note_says_what_changed() -> None:
    raised = blocks.change_note(incident(), "warn", FACTS)
    assert raised.startswith(":arrow_up: Severity raised from warn to error: now observed 12, expected 0")
    lowered = blocks.change_note(incident(severity="warn"), "error", CardFacts())
    assert lowered == ":arrow_down: Severity lowered from error to warn"
    ended = blocks.change_note(
        incident(), "error", CardFacts(), reason="acknowledged period ended, still failing"
    )
    assert ended == ":pencil2: Acknowledged period ended, still failing"
    assert blocks.change_note(incident(), "error", CardFacts()) == ":pencil2: Changed"


def test_report_link_from_the_report_publisher_or_none_when_not_published(tmp_path: Path) -> None:
    for name, report, artifacts, expected in [
        (
            "published",
            {},
            {"report_url": "https://dq.example.com/x.html"},
            "https://dq.example.com/x.html#ds=lake.clickstream|Data health report",
        ),
        ("local", {}, {"report": str(tmp_path / "reports" / "x.html")}, None),
        (
            "latest",
            {"base_url": "https://dq.example.com"},
            {},
            "https://dq.example.com/latest.html#ds=lake.clickstream|Data health report",
        ),
    ]:
        scenario = Scenario(make_project(tmp_path / name, report=report))
        try:
            incident_, finding = scenario.incident("lake.clickstream", kind="freshness", subject="sla")
            context = scenario.context([opened(incident_, finding)], artifacts=artifacts)
            plan = plan_messages(context, PlanState(threads=True, announced=None, last_alerts={}))
        finally:
            scenario.close()
        text = all_text(plan.messages[0].message)
        if expected is None:
            assert "Data health report" not in text, name
        else:
            assert expected in text, name
