"""Driver errors become one-line, secret-free DatasetErrors; each engine adds its driver's own phrases."""

from __future__ import annotations

import pytest

from datahealth import engines
from datahealth.core.redaction import register_secret
from datahealth.core.results import ErrorKind
from datahealth.engines.base import SqlEngine
from datahealth.engines.errors import classify, error_kind

PG, DUCK, LITE, ANSI = engines.POSTGRES, engines.DUCKDB, engines.SQLITE, engines.ANSI


@pytest.mark.parametrize(
    ("engine", "message", "kind"),
    [
        (PG, "canceling statement due to user request", ErrorKind.TIMEOUT),
        (PG, "terminating connection due to administrator command", ErrorKind.UNREACHABLE),
        (PG, 'could not translate host name "nowhere" to address', ErrorKind.UNREACHABLE),
        (
            PG,
            'connection to server at "db", port 5432 failed: the database system is starting up',
            ErrorKind.UNREACHABLE,
        ),
        (LITE, "no such table: orders", ErrorKind.MISSING),
        (LITE, "unable to open database file", ErrorKind.UNREACHABLE),
        (DUCK, 'IO Error: Could not set lock on file "wh.duckdb": Conflicting lock', ErrorKind.UNREACHABLE),
        (DUCK, "Invalid Input Error: No magic bytes found at end of file", ErrorKind.CORRUPT),
        (DUCK, "IO Error: No files found that match the pattern", ErrorKind.MISSING),
    ],
)
def test_engine_phrases_only_count_for_their_engine(engine: SqlEngine, message: str, kind: ErrorKind) -> None:
    assert error_kind(message, engine.error_hints) == kind
    assert error_kind(message, ANSI.error_hints) == ErrorKind.QUERY


@pytest.mark.parametrize(
    ("message", "kind"),
    [
        ("canceling statement due to statement timeout", ErrorKind.TIMEOUT),
        ("Query execution was interrupted", ErrorKind.TIMEOUT),
        ("permission denied for table orders", ErrorKind.PERMISSION),
        ("Access denied for user 'monitor'", ErrorKind.PERMISSION),
        ('relation "orders" does not exist', ErrorKind.MISSING),
        ("server closed the connection unexpectedly", ErrorKind.UNREACHABLE),
        ("timed out; table does not exist", ErrorKind.TIMEOUT),  # kinds are tried in a fixed order
        ("division by zero", ErrorKind.QUERY),
    ],
)
def test_shared_phrases_count_on_every_engine(message: str, kind: ErrorKind) -> None:
    assert {error_kind(message, e.error_hints) for e in (PG, DUCK, LITE, ANSI)} == {kind}


def test_classify_keeps_the_first_line_with_context_and_no_secret() -> None:
    register_secret("hunter2-secret-value")
    error = classify(
        RuntimeError("password hunter2-secret-value rejected: permission denied\nDETAIL: SQL text"),
        "measuring w.t failed",
        PG.error_hints,
    )
    assert str(error) == "measuring w.t failed: password *** rejected: permission denied"
    assert error.kind == ErrorKind.PERMISSION
    assert classify(error, "ignored") is error  # already a DatasetError
