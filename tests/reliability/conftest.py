"""Fixtures of the fault-injection suite: a PostgreSQL cluster of its own, fresh databases in it, fake Slack."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from tests.reliability.cluster import PrivateCluster
from tests.reliability.world import SLACK_TOKEN_ENV
from tests.support.fake_slack import FakeSlack

CLUSTER_PASSWORD = f"pg-Cluster-Secret-{uuid.uuid4().hex[:12]}"


@pytest.fixture(scope="session")
def cluster() -> Iterator[PrivateCluster]:
    """Password-protected (scram) and ours to stop: never the machine's shared server on 5432."""
    private = PrivateCluster(password=CLUSTER_PASSWORD)
    try:
        private.start()
        yield private
    finally:
        private.destroy()


@pytest.fixture
def warehouse(cluster: PrivateCluster) -> str:
    """A fresh database on the private cluster, which is running at the start of every test."""
    cluster.ensure_running()
    return cluster.create_database(f"wh_{uuid.uuid4().hex[:10]}")


@pytest.fixture
def slack(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeSlack]:
    with FakeSlack() as fake:
        monkeypatch.setenv(SLACK_TOKEN_ENV, fake.token)
        yield fake
