"""Valid but risky settings are warnings `validate` lists: SMTP AUTH in clear text."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from datahealth.cli import app
from datahealth.config import load_project
from datahealth.config.advice import clear_text_auth
from datahealth.config.models import EmailConfig
from tests.support.projects import write_project

cli = CliRunner()


def email(**settings: object) -> EmailConfig:
    return EmailConfig.model_validate(
        {"smtp_host": "mail.example.com", "username": "monitor", "password_env": "SMTP_PW", **settings}
    )


def test_auth_without_tls_to_a_remote_server_is_a_warning() -> None:
    warning = clear_text_auth(email(security="none"))
    assert warning is not None and "clear text" in warning and "starttls" in warning
    assert clear_text_auth(email(security="starttls")) is None
    assert clear_text_auth(email(security="none", username=None, password_env=None)) is None
    for loopback in ("127.0.0.1", "localhost", "::1", "[::1]"):
        assert clear_text_auth(email(security="none", smtp_host=loopback)) is None


def test_validate_lists_it_and_strict_refuses_it(tmp_path: Path) -> None:
    root = write_project(
        tmp_path,
        {"wh": {"kind": "sql", "url": "sqlite:///wh.db"}},
        {"wh.orders": {}},
        publish={
            "email": {
                "smtp_host": "mail.example.com",
                "security": "none",
                "username": "monitor",
                "password_env": "SMTP_PW",
                "recipients": ["a@example.com"],
            }
        },
    )
    assert any("clear text" in w for w in load_project(root).warnings)
    relaxed = cli.invoke(app, ["validate", "-p", str(root)])
    assert relaxed.exit_code == 0 and "clear text" in relaxed.output
    assert cli.invoke(app, ["validate", "-p", str(root), "--strict"]).exit_code == 2
