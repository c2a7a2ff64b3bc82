"""Pushing to a real Pushgateway (Debian's binary): group replacement, failed runs, removed datasets, outages."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from datahealth.config import load_project
from datahealth.core.run import RunOptions, RunSummary
from datahealth.monitor.runner import run_monitor
from tests.support.ports import free_port
from tests.support.prometheus import PushgatewayStarter, Service, labels, metrics_project, parse_samples

AS_OF = "2026-10-10T06:00:00Z"
NO_CHECKS = RunOptions(profile=False, checks=False)
GROUP = {"job": "datahealth", "instance": ""}  # the Pushgateway adds instance="" when the key has none


@pytest.fixture
def gateway(tmp_path: Path, pushgateway: PushgatewayStarter) -> Iterator[Service]:
    with pushgateway(tmp_path / "pushgateway") as service:
        yield service


def pushed(gateway: Service) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    status, body = gateway.get("/metrics")
    assert status == 200
    return {key: value for key, value in parse_samples(body).items() if key[0].startswith("datahealth_")}


def groups(gateway: Service) -> list[dict[str, str]]:
    status, body = gateway.get("/api/v1/metrics")
    assert status == 200
    return [group["labels"] for group in json.loads(body)["data"]]


def run(root: Path, **kwargs: object) -> RunSummary:
    return run_monitor(load_project(root), as_of=AS_OF, options=NO_CHECKS, **kwargs)  # type: ignore[arg-type]


def test_each_successful_run_replaces_the_group_and_removed_datasets_disappear(
    tmp_path: Path, gateway: Service
) -> None:
    root = metrics_project(tmp_path / "project", prometheus={"pushgateway_url": gateway.url})
    assert run(root).warnings == []
    got = pushed(gateway)
    assert got[("datahealth_dataset_rows", labels(**GROUP, source="wh", dataset="wh.orders"))] == 50
    assert got[("datahealth_dataset_rows", labels(**GROUP, source="wh", dataset="wh.customers"))] == 5
    assert groups(gateway) == [{"job": "datahealth"}]  # keyed by job only: no instance in the grouping key

    metrics_project(root, datasets=["wh.orders"], prometheus={"pushgateway_url": gateway.url})
    assert run(root).warnings == []
    got = pushed(gateway)
    assert ("datahealth_dataset_rows", labels(**GROUP, source="wh", dataset="wh.orders")) in got
    assert not [key for key in got if dict(key[1]).get("dataset") == "wh.customers"]
    assert got[("datahealth_run_datasets_observed", labels(**GROUP))] == 1
    assert groups(gateway) == [{"job": "datahealth"}]


def test_a_failed_run_keeps_the_last_success_it_did_not_push(tmp_path: Path, gateway: Service) -> None:
    """A worker with an empty history store fails: its POST must not erase the success pushed before."""
    healthy = metrics_project(
        tmp_path / "healthy", datasets=["wh.orders"], prometheus={"pushgateway_url": gateway.url}
    )
    run(healthy)
    success = pushed(gateway)[("datahealth_run_last_success_timestamp_seconds", labels(**GROUP))]
    first_finish = pushed(gateway)[("datahealth_run_finished_timestamp_seconds", labels(**GROUP))]

    broken = metrics_project(
        tmp_path / "broken", datasets=["wh.missing"], prometheus={"pushgateway_url": gateway.url}
    )
    summary = run(broken)
    assert [d.dataset for d in summary.errored] == ["wh.missing"] and summary.warnings == []
    got = pushed(gateway)
    assert got[("datahealth_run_last_success_timestamp_seconds", labels(**GROUP))] == success
    assert got[("datahealth_run_finished_timestamp_seconds", labels(**GROUP))] > first_finish
    assert got[("datahealth_run_datasets_failed", labels(**GROUP))] == 1
    assert got[("datahealth_dataset_status", labels(**GROUP, source="wh", dataset="wh.missing"))] == 3
    # POST replaced the families it carried: the healthy project's status series went with them
    assert ("datahealth_dataset_status", labels(**GROUP, source="wh", dataset="wh.orders")) not in got


def test_an_unreachable_pushgateway_is_a_short_secret_free_warning(tmp_path: Path) -> None:
    url = f"http://pusher:s3cret-push-pw@127.0.0.1:{free_port()}"
    root = metrics_project(tmp_path, prometheus={"pushgateway_url": url})
    summary = run(root)
    assert summary.counts["ok"] + summary.counts["warn"] == 2  # the run itself is fine
    [warning] = [w for w in summary.warnings if w.startswith("prometheus:")]
    assert warning == (
        f"prometheus: MetricsPublishError: cannot push metrics to the Pushgateway at "
        f"http://127.0.0.1:{url.rsplit(':', 1)[1]}: connection refused"
    )
    assert "s3cret-push-pw" not in json.dumps(summary.to_dict())
    # the textfile does not depend on the Pushgateway
    assert (root / "reports" / "datahealth.prom").read_text().count("datahealth_dataset_rows{") == 2


def test_basic_auth_from_the_url(tmp_path: Path, pushgateway: PushgatewayStarter) -> None:
    with pushgateway(tmp_path / "pushgateway", basic_auth=("pusher", "right-pw")) as gateway:
        port = gateway.url.rsplit(":", 1)[1]
        good = metrics_project(
            tmp_path / "good",
            datasets=["wh.orders"],
            prometheus={"pushgateway_url": f"http://pusher:right-pw@127.0.0.1:{port}"},
        )
        assert run(good).warnings == []
        assert (
            pushed(gateway)[("datahealth_dataset_rows", labels(**GROUP, source="wh", dataset="wh.orders"))]
            == 50
        )

        bad = metrics_project(
            tmp_path / "bad",
            datasets=["wh.orders"],
            prometheus={"pushgateway_url": f"http://pusher:wrong-pw@127.0.0.1:{port}/"},
        )
        summary = run(bad)
        [warning] = [w for w in summary.warnings if w.startswith("prometheus:")]
        assert f"at http://127.0.0.1:{port}: HTTP 401 Unauthorized" in warning
        assert "wrong-pw" not in warning and "\n" not in warning
