"""Connection URLs in configuration: passwords encoded where they are interpolated, meaning checked.

A password with URL-special characters (`S3cr3t@/:#?X`) written into `user:${PW}@host/db` would end the
userinfo early and turn the rest into host, port or database: the run would offer the credentials to a
different server. So a value interpolated into a URL's userinfo is URL-encoded on the way in, and a URL
whose host, port or database differs from what its text says (a literal password with an `@`, or an
environment value that rewrites the host) is rejected with the fix: encode the character.
"""

from __future__ import annotations

import re
from urllib.parse import quote, unquote, urlsplit

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

ENCODE_FIX = (
    "URL-encode special characters in the user and password (@ → %40, / → %2F, : → %3A, # → %23, "
    "? → %3F, % → %25), or put the password in an environment variable and write user:${PASSWORD}@ "
    "(datahealth encodes it)"
)
_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*://")
_HOST_PORT = re.compile(r"^(?P<host>\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.\-_]*)(?::(?P<port>\d+))?(?:[/?]|$)")


def userinfo_span(template: str) -> tuple[int, int] | None:
    """Where the userinfo (`user:password`) of a URL template is: (start, end of the last `@`), or None."""
    match = _SCHEME.match(template)
    if not match:
        return None
    start = match.end()
    at = template.rfind("@", start)
    if at < 0:
        return None
    return start, at


def encode_userinfo_value(value: str) -> str:
    """A value for a URL's userinfo, percent-encoded unless it already is (`p%40ss` stays as it is)."""
    if quote(unquote(value), safe="") == value:
        return value
    return quote(value, safe="")


def parsed_target(url: str) -> tuple[str | None, int | None, str | None] | None:
    """(host, port, database) as SQLAlchemy reads the URL; None when it is not a URL it can read."""
    try:
        parsed = make_url(url)
    except (ArgumentError, ValueError):
        return None
    return parsed.host, parsed.port, parsed.database


def meaning_problem(url: str) -> str | None:
    """Why `url` does not reach the server its text names (an unencoded `@` in the password), or None.

    The server a person means is the host after the *last* `@` of the authority; SQLAlchemy (like most
    URL parsers) ends the userinfo at the *first* one.
    """
    span = userinfo_span(url)
    if span is None or "@" not in url[span[0] : span[1]]:
        return None
    intended = _HOST_PORT.match(url[span[1] + 1 :])
    actual = parsed_target(url)
    if intended is None:
        return None
    if actual is None:  # the '@' made the rest unreadable (e.g. a port of "word@host:5432")
        return "the URL's user or password holds an unencoded '@': the URL cannot be read"
    host = intended.group("host").strip("[]") or None
    port = int(intended.group("port")) if intended.group("port") else None
    between = url[span[0] : span[1]]
    broken = not actual[0] or "@" in actual[0]  # no host, or one that swallowed the rest
    # an '@' in the query (`?email=a@b`) is not in the authority: a readable host before it is fine
    moved = (actual[0], actual[1]) != (host, port) and not any(c in between for c in "/?#")
    if not (broken or moved):
        return None
    return (
        f"the URL's user or password holds an unencoded '@': it would connect to host "
        f"{actual[0] or '(local socket)'} port {actual[1] or '(default)'} instead of {host} port "
        f"{port or '(default)'}"
    )


def slot_of(template: str, position: int) -> str | None:
    """Which part of a URL template `position` falls in: "userinfo", "authority" (host, port) or None."""
    span = userinfo_span(template)
    match = _SCHEME.match(template)
    if match is None:
        return None
    if span is not None and span[0] <= position < span[1]:
        return "userinfo"
    after = span[1] + 1 if span is not None else match.end()
    ends = [i for i in (template.find(c, after) for c in "/?#") if i >= 0]
    return "authority" if after <= position < min(ends, default=len(template)) else None


def escapes_authority(value: str) -> bool:
    """Whether a value put into a URL's host or port would end it early (and so change the server)."""
    return any(c in value for c in "@/?#")


def password_of(url: str) -> str | None:
    """The URL's password, decoded (None when it has none or cannot be read)."""
    try:
        password = urlsplit(url).password
    except ValueError:
        return None
    return unquote(password) if password else None


def literal_password(url: str) -> bool:
    """Whether a URL carries a password written in the file (not a `${ENV}` reference)."""
    if not _SCHEME.match(url):
        return False
    try:
        password = urlsplit(url).password
    except ValueError:
        return False
    return bool(password) and "${" not in url.rpartition("@")[0]
