"""Property-based: whatever a user writes in sla_config/, loading ends in a Project or a ConfigError
whose every issue names a file — never a traceback."""

from __future__ import annotations

import tempfile
from pathlib import Path

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from datahealth.config import ConfigError, load_project

KEYS = [
    "sources",
    "datasets",
    "tiers",
    "history",
    "publish",
    "routing",
    "project",
    "kind",
    "url",
    "root",
    "sla",
    "warn_after",
    "error_after",
    "expected_by",
    "cron",
    "timezone",
    "path",
    "table",
    "tier",
    "primary_key",
    "profile",
    "sample",
    "checks",
    "severity",
    "wh",
    "wh.orders",
    "lake.x",
    "sql",
    "lake",
    "match",
    "owners",
]
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-5, 10**12),
    st.floats(allow_nan=True),
    st.text(max_size=20),
    st.sampled_from(["sql", "lake", "26h", "sqlite:///x.db", "${UNSET_VAR}", "* * * * *"]),
)
values = st.recursive(
    scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=4),
        st.dictionaries(st.sampled_from(KEYS) | st.text(max_size=8), children, max_size=5),
    ),
    max_leaves=25,
)
documents = st.dictionaries(st.sampled_from(KEYS), values, max_size=6)


def load(files: dict[str, str]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / "sla_config").mkdir()
        for name, text in files.items():
            (root / "sla_config" / name).write_text(text)
        try:
            load_project(root, environ={})
        except ConfigError as exc:
            assert exc.issues
            for issue in exc.issues:
                assert str(issue.file).startswith(str(root)) and issue.message


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(documents, documents)
def test_structured_garbage_never_raises_anything_but_config_error(first: dict, second: dict) -> None:
    load({"a.yaml": yaml.safe_dump(first), "b.yaml": yaml.safe_dump(second)})


@settings(max_examples=150, deadline=None)
@given(st.text(max_size=200))
def test_arbitrary_text_never_raises_anything_but_config_error(text: str) -> None:
    load({"a.yaml": text})
