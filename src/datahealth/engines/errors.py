"""Turns driver exceptions into one-line, secret-free DatasetErrors with a kind people can act on.

The words below are the ones many drivers share. Each engine adds the phrases only its driver uses
(`SqlEngine.error_hints`: PostgreSQL's "canceling statement", SQLite's "no such table", DuckDB's file
lock), and the caller passes them in. Kinds are tried in a fixed order, so a message naming both a timeout
and a missing object is a timeout on every engine.
"""

from __future__ import annotations

from collections.abc import Mapping

from datahealth.core.errors import DatasetError
from datahealth.core.redaction import redact
from datahealth.core.results import ErrorKind

ErrorHints = Mapping[ErrorKind, tuple[str, ...]]

GENERIC_HINTS: ErrorHints = {
    ErrorKind.TIMEOUT: ("statement timeout", "interrupted", "timed out", "timeout expired"),
    ErrorKind.PERMISSION: ("permission denied", "access denied", "insufficient privilege", "not authorized"),
    ErrorKind.MISSING: ("does not exist", "not found", "no such file"),
    ErrorKind.CORRUPT: ("corrupt", "truncated"),
    ErrorKind.UNREACHABLE: (
        "could not connect",
        "connection refused",
        "connection failed",
        "server closed",
        "connection is lost",  # psycopg, and Soda repeating it
        "lost connection",  # MySQL/MariaDB
        "connection already closed",
    ),
}
_ORDER = (
    ErrorKind.TIMEOUT,
    ErrorKind.PERMISSION,
    ErrorKind.MISSING,
    ErrorKind.CORRUPT,
    ErrorKind.UNREACHABLE,
    ErrorKind.CONFIG,  # engine hints only (BigQuery's bytes-billed refusal)
)


def first_line(exc: BaseException) -> str:
    """The informative first line of a driver error (drivers append SQL and hints on later lines)."""
    original = getattr(exc, "orig", None) or exc
    text = str(original).strip() or type(original).__name__
    return redact(text.splitlines()[0].strip())


def error_kind(message: str, hints: ErrorHints | None = None) -> ErrorKind:
    """The first kind (in `_ORDER`) whose generic or engine-specific words occur in `message`."""
    lowered = message.lower()
    for kind in _ORDER:
        needles = GENERIC_HINTS.get(kind, ()) + (hints or {}).get(kind, ())
        if any(needle in lowered for needle in needles):
            return kind
    return ErrorKind.QUERY


def classify(exc: BaseException, context: str, hints: ErrorHints | None = None) -> DatasetError:
    """Wrap `exc` as a DatasetError whose message starts with `context` and whose kind fits the text."""
    if isinstance(exc, DatasetError):
        return exc
    message = first_line(exc)
    return DatasetError(f"{context}: {message}", error_kind(message, hints))
