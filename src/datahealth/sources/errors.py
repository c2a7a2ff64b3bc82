"""Turns driver exceptions into one-line, secret-free DatasetErrors with a kind people can act on."""

from __future__ import annotations

from datahealth.core.redaction import redact
from datahealth.core.results import ErrorKind
from datahealth.sources.base import DatasetError

_PATTERNS: tuple[tuple[ErrorKind, tuple[str, ...]], ...] = (
    (
        ErrorKind.TIMEOUT,
        ("statement timeout", "canceling statement", "interrupted", "timed out", "timeout expired"),
    ),
    (
        ErrorKind.PERMISSION,
        ("permission denied", "access denied", "insufficient privilege", "not authorized"),
    ),
    (ErrorKind.MISSING, ("does not exist", "no such table", "not found", "no files found", "no such file")),
    (
        ErrorKind.CORRUPT,
        ("invalid parquet", "not a parquet", "corrupt", "magic bytes", "invalid input error", "truncated"),
    ),
    (
        ErrorKind.UNREACHABLE,
        (
            "could not connect",
            "connection refused",
            "connection failed",
            "server closed",
            "terminating connection",
            "could not translate host",
            "no route to host",
            "connection to server",
            "could not set lock",
            "unable to open database",
        ),
    ),
)


def first_line(exc: BaseException) -> str:
    """The informative first line of a driver error (drivers append SQL and hints on later lines)."""
    original = getattr(exc, "orig", None) or exc
    text = str(original).strip() or type(original).__name__
    return redact(text.splitlines()[0].strip())


def classify(exc: BaseException, context: str) -> DatasetError:
    """Wrap `exc` as a DatasetError whose message starts with `context` and whose kind fits the text."""
    if isinstance(exc, DatasetError):
        return exc
    message = first_line(exc)
    lowered = message.lower()
    kind = ErrorKind.QUERY
    for candidate, needles in _PATTERNS:
        if any(needle in lowered for needle in needles):
            kind = candidate
            break
    return DatasetError(f"{context}: {message}", kind)
