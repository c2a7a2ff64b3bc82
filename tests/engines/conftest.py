"""The conformance suite's fixture: a fresh instance of the engine under test (parametrised indirectly)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.engines.under_test import EngineUnderTest


@pytest.fixture
def under_test(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[EngineUnderTest]:
    """`request.param` is an `EngineUnderTest` class (see `under_test.engines_for`)."""
    instance = request.param.start(request, tmp_path)
    try:
        yield instance
    finally:
        instance.close()
