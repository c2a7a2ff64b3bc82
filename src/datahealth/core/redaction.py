"""One place that knows every secret value, so no output path can leak one.

Secrets enter datahealth in two ways: passwords embedded in connection URLs and values read from
environment variables that configuration names (tokens, SMTP passwords). Both are registered here the
moment they are read; every log record, error message, report and alert passes through `redact()`.
Redacting by value (not by field name) also catches a secret echoed back inside a driver's error text.
"""

from __future__ import annotations

import logging
import re
import threading

_MASK = "***"
_MIN_SECRET_LENGTH = 3  # shorter values would blank out ordinary text (ports, single letters)
_URL_PASSWORD = re.compile(r"(?P<head>\b[a-zA-Z][a-zA-Z0-9+.\-]*://[^:/@\s]*:)(?P<secret>[^@\s/]+)@")
_KEY_VALUE = re.compile(
    r"(?i)\b(?P<key>password|passwd|pwd|token|secret|api_key)(?P<sep>\s*[=:]\s*)(?P<val>[^\s&;,'\"]+)"
)

_lock = threading.Lock()
_secrets: set[str] = set()


def register_secret(value: str | None) -> None:
    """Remember a secret value so that `redact()` removes it from any text from now on."""
    if value and len(value) >= _MIN_SECRET_LENGTH:
        with _lock:
            _secrets.add(value)


def redact(text: object) -> str:
    """Return `text` as a string with every known secret and every URL password masked."""
    result = str(text)
    if not result:
        return result
    with _lock:
        known = sorted(_secrets, key=len, reverse=True)
    for secret in known:
        if secret in result:
            result = result.replace(secret, _MASK)
    result = _URL_PASSWORD.sub(lambda m: f"{m.group('head')}{_MASK}@", result)
    return _KEY_VALUE.sub(lambda m: f"{m.group('key')}{m.group('sep')}{_MASK}", result)


class RedactingFilter(logging.Filter):
    """A logging filter that rewrites each record's message with secrets masked."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        if record.exc_info and record.exc_info[1] is not None:
            record.exc_text = redact(logging.Formatter().formatException(record.exc_info))
            record.exc_info = None
        return True


def install_log_redaction(*logger_names: str) -> None:
    """Attach the redacting filter to the handlers of the given loggers (root when none given)."""
    names = logger_names or ("",)
    for name in names:
        logger = logging.getLogger(name)
        for handler in logger.handlers:
            if not any(isinstance(f, RedactingFilter) for f in handler.filters):
                handler.addFilter(RedactingFilter())
        if not any(isinstance(f, RedactingFilter) for f in logger.filters):
            logger.addFilter(RedactingFilter())
