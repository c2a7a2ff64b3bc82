"""Valid settings that are still worth changing: warnings `validate` lists (errors with `--strict`)."""

from __future__ import annotations

import ipaddress

from datahealth.config.models import EmailConfig, ProjectConfig

_LOOPBACK_NAMES = {"localhost", "localhost.localdomain"}


def clear_text_auth(email: EmailConfig) -> str | None:
    """SMTP AUTH without TLS sends the password readable on the network (a loopback relay is exempt)."""
    if email.security != "none" or not email.username or not email.smtp_host or _loopback(email.smtp_host):
        return None
    return (
        f"publish.email: security is none, so SMTP AUTH to {email.smtp_host} sends the password "
        "in clear text; use security: starttls or ssl"
    )


def config_warnings(config: ProjectConfig) -> list[str]:
    """Every advisory warning for a validated project configuration."""
    return [warning for warning in (clear_text_auth(config.publish.email),) if warning]


def _loopback(host: str) -> bool:
    if host.lower() in _LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False
