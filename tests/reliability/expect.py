"""Assertions every fault test makes: the error is visible everywhere, and recovery resolves it everywhere."""

from __future__ import annotations

from pathlib import Path

from markupsafe import escape

from datahealth.core.run import RunSummary
from tests.reliability.world import by_dataset, incidents, report_html, slack_headers, textfile_statuses
from tests.support.fake_slack import FakeSlack


def assert_error_visible(
    root: Path,
    summary: RunSummary,
    dataset: str,
    kind: str,
    slack: FakeSlack | None,
    says: str,
    *,
    status: str = "unknown",
    incident: str = "error",
) -> None:
    """Status, stored incident, report, metrics and (when configured) Slack all tell of the dataset's error.

    A table that disappears after it had a schema is a schema change (status fail), not an error.
    """
    item = by_dataset(summary)[dataset]
    assert (item.status, item.error_kind) == (status, kind), item
    assert says in (item.error or ""), item.error
    assert textfile_statuses(root)[dataset] == status
    page = report_html(root)
    assert str(escape(dataset)) in page and str(escape(says)) in page  # as the report's Jinja escapes it
    assert any(i.dataset == dataset and i.kind == incident for i in incidents(root, "open"))
    if slack is not None:
        assert any(dataset in header and "Error" in header for header in slack_headers(slack)), slack_headers(
            slack
        )


def assert_recovered(root: Path, summary: RunSummary, datasets: list[str], slack: FakeSlack | None) -> None:
    """After recovery: every dataset ok, no incident open, each Slack alert edited to Resolved."""
    statuses = {d.dataset: d.status for d in summary.datasets}
    assert statuses == dict.fromkeys(statuses, "ok"), statuses
    assert set(datasets) <= set(statuses)
    assert textfile_statuses(root) == dict.fromkeys(statuses, "ok")
    assert incidents(root, "open") == []
    if slack is not None:
        headers = slack_headers(slack)
        for dataset in datasets:
            mine = [h for h in headers if dataset in h]
            assert mine and all(h.startswith(":white_check_mark: Resolved") for h in mine), headers
