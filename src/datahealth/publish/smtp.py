"""SMTP, as the email publisher uses it: a connected, encrypted, logged-in client, and failures in words.

Configuration problems (no host, a password variable that is not set) raise `EmailError` before any
connection is tried; `DATAHEALTH_SMTP_PORT`, `DATAHEALTH_SMTP_SECURITY` and `DATAHEALTH_SMTP_USER`
override the configured port, security and user (one project file, a different server per environment); what the server or the network says comes back as smtplib's and the socket's own
exceptions, which `reason` turns into one secret-free line.
"""

from __future__ import annotations

import contextlib
import os
import smtplib
import ssl
from collections.abc import Iterator
from typing import Any

from pydantic import ValidationError

from datahealth.config.models import EmailConfig
from datahealth.core.redaction import redact, register_secret

ENV_OVERRIDES = {
    "DATAHEALTH_SMTP_PORT": "smtp_port",
    "DATAHEALTH_SMTP_SECURITY": "security",
    "DATAHEALTH_SMTP_USER": "username",
}


class EmailError(Exception):
    """Email cannot be sent with this configuration (no server, missing password variable, no recipients)."""


def with_environment(config: EmailConfig) -> EmailConfig:
    """The SMTP settings with the `DATAHEALTH_SMTP_*` environment overrides applied (and validated as the
    config's own values are)."""
    updates = {key: os.environ[name].strip() for name, key in ENV_OVERRIDES.items() if os.environ.get(name)}
    if not updates:
        return config
    try:
        return EmailConfig.model_validate({**config.model_dump(), **updates})
    except ValidationError as exc:
        error = exc.errors()[0]
        name = next(n for n, key in ENV_OVERRIDES.items() if key == error["loc"][0])
        raise EmailError(
            f"{name}={os.environ[name]!r} is not valid: {error['msg']} "
            "(port: 1-65535; security: starttls, ssl or none)"
        ) from None


def server_address(config: EmailConfig) -> str:
    """host:port of the SMTP server (environment overrides applied), as messages name it."""
    with contextlib.suppress(EmailError):
        config = with_environment(config)
    return f"{config.smtp_host}:{config.smtp_port}"


@contextlib.contextmanager
def smtp_connection(config: EmailConfig) -> Iterator[smtplib.SMTP]:
    """A connected (and, when configured, encrypted and logged-in) SMTP client."""
    config = with_environment(config)
    if not config.smtp_host:
        raise EmailError("publish.email.smtp_host is not set")
    password = smtp_password(config)
    context = ssl.create_default_context(cafile=config.ca_file) if config.security != "none" else None
    client: smtplib.SMTP
    if config.security == "ssl":
        client = smtplib.SMTP_SSL(
            config.smtp_host, config.smtp_port, timeout=config.timeout_seconds, context=context
        )
    else:
        client = smtplib.SMTP(config.smtp_host, config.smtp_port, timeout=config.timeout_seconds)
    try:
        if config.security == "starttls":
            client.starttls(context=context)
            client.ehlo()
        if config.username:
            client.login(config.username, password or "")
        yield client
    finally:
        try:
            client.quit()
        except (OSError, smtplib.SMTPException):
            client.close()


def smtp_password(config: EmailConfig) -> str | None:
    """The SMTP password from the environment variable the config names (registered for redaction)."""
    if not config.password_env:
        if config.username:
            raise EmailError(
                "publish.email.username is set but publish.email.password_env (the variable "
                "holding the password) is not"
            )
        return None
    value = os.environ.get(config.password_env)
    if not value:
        raise EmailError(
            f"publish.email.password_env names {config.password_env}, which is not set in the environment"
        )
    register_secret(value)
    return value


def permanent(codes: Any) -> bool:
    codes = list(codes)
    return bool(codes) and all(isinstance(c, int) and 500 <= c < 600 for c in codes)


def refusals(refused: dict[str, tuple[int, bytes]]) -> str:
    return ", ".join(f"{address} ({code})" for address, (code, _) in sorted(refused.items()))


def reason(exc: BaseException) -> str:
    if isinstance(exc, smtplib.SMTPResponseException):
        text = (
            exc.smtp_error.decode("utf-8", "replace")
            if isinstance(exc.smtp_error, bytes)
            else str(exc.smtp_error)
        )
        return redact(f"{exc.smtp_code} {text}".splitlines()[0])
    return redact(f"{type(exc).__name__}: {exc}".splitlines()[0])
