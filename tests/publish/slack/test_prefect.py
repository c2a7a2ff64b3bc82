"""A Slack alert sent by the Prefect flow links to its flow run in the Prefect UI."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.publish.slack.test_flow import day, load, make
from tests.support.fake_slack import FakeSlack


@pytest.fixture
def slack() -> Iterator[FakeSlack]:
    with FakeSlack() as fake:
        yield fake


@pytest.mark.slow
def test_prefect_flow_alert_links_to_its_flow_run(
    tmp_path: Path, slack: FakeSlack, monkeypatch: pytest.MonkeyPatch, prefect_harness: None
) -> None:
    from datahealth.orchestration.flow import data_health

    root = make(tmp_path, slack, monkeypatch)
    load(root / "wh.db", "orders", day(0))
    load(root / "wh.db", "customers", day(0))
    state = data_health(project_dir=str(root), as_of=(day(3)).isoformat(), return_state=True)
    assert state.is_completed()
    flow_run_id = str(state.state_details.flow_run_id)
    [orders_message] = slack.top_level("#data-alerts")
    assert orders_message.blocks[0]["text"]["text"] == ":red_circle: Error · wh.orders"
    footer = json.dumps(orders_message.blocks[-1])
    assert f"/flow-run/{flow_run_id}|Prefect flow run>" in footer
    assert len(slack.top_level("#crm-data")) == 1
