"""The marker hook: `make test-fast` (`-m "not integration"`) selects no test that needs a service.

Collection runs in a subprocess exactly as `make test-fast` selects, with a recorder plugin that keeps
each selected and deselected test's fixture closure, markers and the service starters its code reaches.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest

from tests.support import postgres
from tests.support.services import INTEGRATION, SERVICE_FIXTURES, markers_for, starters_reached

REPO = Path(__file__).resolve().parents[1]

RECORDER = """
import json, sys
import pytest
from tests.support import postgres
from tests.support.services import starters_reached

class Recorder:
    def __init__(self):
        self.selected, self.deselected = [], []

    def pytest_deselected(self, items):
        self.deselected.extend(items)

    @pytest.hookimpl(trylast=True)
    def pytest_collection_finish(self, session):
        self.selected = list(session.items)

def row(item):
    # the fixture functions of the closure: private pytest API, read-only, test code only
    definitions = getattr(item, "_fixtureinfo").name2fixturedefs
    fixtures = [d.func for name in item.fixturenames for d in definitions.get(name, ())]
    return {
        "nodeid": item.nodeid,
        "fixtures": list(item.fixturenames),
        "markers": sorted({m.name for m in item.iter_markers()}),
        "starters": sorted(starters_reached([item.function, *fixtures])),
    }

recorder = Recorder()
code = pytest.main(sys.argv[2:], plugins=[recorder])
with open(sys.argv[1], "w") as out:
    json.dump({"code": int(code), "selected": [row(i) for i in recorder.selected],
               "deselected": [row(i) for i in recorder.deselected]}, out)
"""


@pytest.fixture(scope="module")
def fast_selection(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """What `make test-fast` selects, and what it leaves out."""
    out = tmp_path_factory.mktemp("markers") / "collected.json"
    argv = ["--collect-only", "-q", "-p", "no:cacheprovider", "-m", "not integration", "tests"]
    done = subprocess.run(
        [sys.executable, "-c", RECORDER, str(out), *argv],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    collected: dict[str, Any] = json.loads(out.read_text())
    assert collected["code"] == 0
    assert len(collected["selected"]) > 100 and len(collected["deselected"]) > 20, collected
    return collected


def test_no_test_left_for_test_fast_uses_a_service_fixture(fast_selection: dict[str, Any]) -> None:
    offenders = {
        row["nodeid"]: sorted(set(row["fixtures"]) & set(SERVICE_FIXTURES))
        for row in fast_selection["selected"]
        if set(row["fixtures"]) & set(SERVICE_FIXTURES)
    }
    assert offenders == {}


def test_no_test_left_for_test_fast_starts_a_service_itself(fast_selection: dict[str, Any]) -> None:
    """Its body, its fixtures and the test helpers they call name no starter (they ask for the fixture)."""
    offenders = {row["nodeid"]: row["starters"] for row in fast_selection["selected"] if row["starters"]}
    assert offenders == {}


def test_every_test_using_a_service_is_marked_for_it(fast_selection: dict[str, Any]) -> None:
    for row in fast_selection["deselected"]:
        assert INTEGRATION in row["markers"], row
        assert set(markers_for(row["fixtures"])) <= set(row["markers"]), row


def test_every_service_fixture_is_in_use_and_every_marker_registered(fast_selection: dict[str, Any]) -> None:
    """A renamed fixture would silently drop its tests' markers: each name in the map must be used."""
    used = {name for row in fast_selection["deselected"] for name in row["fixtures"]}
    assert set(SERVICE_FIXTURES) - used == set()
    config = tomllib.loads((REPO / "pyproject.toml").read_text())
    registered = {line.split(":")[0] for line in config["tool"]["pytest"]["ini_options"]["markers"]}
    assert {INTEGRATION, *SERVICE_FIXTURES.values()} <= registered


def test_integration_tests_reached_their_services(fast_selection: dict[str, Any]) -> None:
    """The starter scan sees real use: the deselected tests that start servers in their bodies are found."""
    reached = {name for row in fast_selection["deselected"] for name in row["starters"]}
    assert {"tests.support.smtp.smtp_server", "tests.support.postgres.temporary_database"} <= reached


def test_markers_follow_the_fixture_closure() -> None:
    assert markers_for(["tmp_path", "pg_database", "postgres_server"]) == [INTEGRATION, "postgres"]
    assert markers_for(["smtp_server", "chromium"]) == [INTEGRATION, "chromium", "smtp"]
    assert markers_for(["tmp_path", "monkeypatch"]) == []


def _helper_reaching_postgres() -> None:
    postgres.execute("db", "SELECT 1")


def _calls_the_helper() -> None:
    _helper_reaching_postgres()


def _shadows_the_starter(prometheus: object) -> object:
    return prometheus


# looked up by key so that the scan of the test below does not itself reach PostgreSQL
SAMPLES = {"calls a helper": _calls_the_helper, "shadows": _shadows_the_starter}


def test_the_starter_scan_follows_helpers_and_module_attributes() -> None:
    reached = starters_reached([SAMPLES["calls a helper"]])
    assert reached == {"tests.support.postgres.execute", "psycopg.connect"}  # execute's own call, too
    assert starters_reached([SAMPLES["calls a helper"]], depth=0) == set()
    assert starters_reached([SAMPLES["shadows"]]) == set()
