"""The history store's URL for a test, on SQLite and on the real PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.postgres import sqlalchemy_url

PG = pytest.param("postgres", marks=[pytest.mark.integration, pytest.mark.postgres])


@pytest.fixture(params=["sqlite", PG])
def history_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A SQLite file under the test's `.datahealth/`, or a fresh PostgreSQL database."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / '.datahealth' / 'history.db'}"
    return sqlalchemy_url(request.getfixturevalue("pg_database"))
