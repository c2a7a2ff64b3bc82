"""One place that knows every secret value, so no output path can leak one.

Secrets enter datahealth in two ways: passwords embedded in connection URLs and values read from
environment variables that configuration names (tokens, SMTP passwords). Both are registered here the
moment they are read; every log record, error message, report and alert passes through `redact()`.
Redacting by value (not by field name) also catches a secret echoed back inside a driver's error text.

A secret is registered *by parts*: a server that refuses a webhook echoes only its path ("Cannot POST
/services/T000/B000/<token>"), a driver prints the password URL-decoded, a proxy the userinfo. So a URL
registers the whole URL, its userinfo and password, its path, path and query, query values and the last
path segment (the token of a webhook), and every form is registered both URL-encoded and decoded.
"""

from __future__ import annotations

import logging
import re
import threading
from urllib.parse import parse_qsl, quote, unquote, urlsplit

_MASK = "***"
_MIN_SECRET_LENGTH = 3  # shorter values would blank out ordinary text (ports, single letters)
_URL_PASSWORD = re.compile(r"(?P<head>\b[a-zA-Z][a-zA-Z0-9+.\-]*://[^:/@\s]*:)(?P<secret>[^@\s/]+)@")
_KEY_VALUE = re.compile(
    r"(?i)\b(?P<key>password|passwd|pwd|token|secret|api_key)(?P<sep>\s*[=:]\s*)(?P<val>[^\s&;,'\"]+)"
)

_lock = threading.Lock()
_secrets: set[str] = set()


_MIN_PART_LENGTH = 8  # a URL's path segment or query value shorter than this is not a secret by itself


def register_secret(value: str | None) -> None:
    """Remember a secret value, and each form it can appear in, so that `redact()` removes it from now on."""
    if not value or len(value) < _MIN_SECRET_LENGTH:
        return
    forms = secret_forms(value)
    with _lock:
        _secrets.update(forms)


def secret_forms(value: str) -> set[str]:
    """Every form `register_secret(value)` masks (for tests and for checking a text by hand)."""
    forms = {value, *_url_parts(value)}
    found = {form for part in forms for form in (part, unquote(part), quote(part, safe=""), quote(part))}
    return {form for form in found if len(form) >= _MIN_SECRET_LENGTH}


def _url_parts(value: str) -> set[str]:
    """The pieces of a URL that identify its secret: userinfo, password, path, query, the token segment."""
    if "://" not in value:
        return set()
    try:
        parts = urlsplit(value.strip())
        password = parts.password
    except ValueError:
        return set()
    found: set[str] = set()
    userinfo = parts.netloc.rpartition("@")[0]
    if userinfo:
        found.add(userinfo)
    if password:
        found.add(password)
    path = parts.path.rstrip("/")
    if len(path.strip("/")) >= _MIN_PART_LENGTH:
        found.add(path)
        found.add(path.lstrip("/"))
        last = path.rsplit("/", 1)[-1]
        if len(last) >= _MIN_PART_LENGTH:
            found.add(last)
    if parts.query:
        found.add(parts.query)
        if path:
            found.add(f"{path}?{parts.query}")
        found.update(v for _, v in parse_qsl(parts.query) if len(v) >= _MIN_PART_LENGTH)
    return found


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
