"""docs/engines.md tells the truth: its capability table and its not-applicable list are the code's."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from datahealth import engines
from datahealth.engines.base import EngineCapabilities, SqlEngine
from tests.engines.under_test import UNDER_TEST

DOC = Path(__file__).resolve().parents[2] / "docs" / "engines.md"
SHOWN = [*engines.REGISTERED.values(), engines.ANSI]


def shown(value: object) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if value is None:
        return "—"
    if isinstance(value, frozenset):
        return ", ".join(sorted(value)) or "—"
    return str(value)


def capability_table(shown_engines: list[SqlEngine]) -> list[str]:
    """The markdown table of every declared capability, one row per field, one column per engine."""
    lines = [
        "| capability | " + " | ".join(e.title for e in shown_engines) + " |",
        "|---" * (len(shown_engines) + 1) + "|",
    ]
    for field in dataclasses.fields(EngineCapabilities):
        values = [shown(getattr(e.capabilities, field.name)) for e in shown_engines]
        lines.append(f"| `{field.name}` | " + " | ".join(values) + " |")
    return lines


def test_the_capability_table_is_what_the_engines_declare() -> None:
    text = DOC.read_text()
    table = "\n".join(capability_table(SHOWN))
    assert table in text, "docs/engines.md capability table is out of date; expected:\n" + table


def test_every_capability_is_explained() -> None:
    text = DOC.read_text()
    missing = [f.name for f in dataclasses.fields(EngineCapabilities) if f"- `{f.name}`" not in text]
    assert not missing


def test_every_not_applicable_case_is_listed_with_its_reason() -> None:
    text = DOC.read_text()
    for under_test in UNDER_TEST:
        engine = engines.for_backend(under_test.backend)
        for case, reason in under_test.not_applicable.items():
            assert f"| {engine.title} | `{case}` | {reason} |" in text
