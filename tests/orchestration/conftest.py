"""Fixtures shared by the orchestration tests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.orchestration.prefect_server import PrefectServer, prefect_server


@pytest.fixture
def prefect_api_server(tmp_path: Path) -> Iterator[PrefectServer]:
    """A real `prefect server start` of this test's own (a service fixture: see tests/support/services.py)."""
    with prefect_server(tmp_path) as running:
        yield running
