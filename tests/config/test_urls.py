"""Passwords with URL-special characters reach the right server, or the config says how to encode them."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy.engine import make_url
from typer.testing import CliRunner

from datahealth.cli import app
from datahealth.config import ConfigError, load_project
from datahealth.config.urls import encode_userinfo_value, meaning_problem, slot_of
from tests.support.projects import write_project

HOSTILE = "S3cr3t@/:#?X"
cli = CliRunner()


def project_with_url(root: Path, url: str) -> Path:
    return write_project(root, {"wh": {"kind": "sql", "url": url}}, {"wh.orders": {}})


def test_an_env_password_is_encoded_into_the_userinfo_and_keeps_host_port_and_database(
    tmp_path: Path,
) -> None:
    root = project_with_url(tmp_path, "postgresql+psycopg://monitor:${PW}@127.0.0.1:55432/wh")
    url = make_url(load_project(root, {"PW": HOSTILE}).config.sources["wh"].url)  # type: ignore[union-attr]
    assert (url.username, url.password, url.host, url.port, url.database) == (
        "monitor",
        HOSTILE,
        "127.0.0.1",
        55432,
        "wh",
    )


def test_an_already_encoded_env_password_is_not_encoded_twice() -> None:
    assert encode_userinfo_value("p%40ss") == "p%40ss"
    assert encode_userinfo_value(HOSTILE) == "S3cr3t%40%2F%3A%23%3FX"
    assert encode_userinfo_value("plain") == "plain"


def test_an_at_sign_in_the_query_is_not_a_problem() -> None:
    assert meaning_problem("postgresql://monitor@db.example.com/wh?application_name=a@b") is None
    assert meaning_problem("postgresql://monitor:p%40ss@db.example.com:5432/wh") is None
    assert meaning_problem("postgresql://monitor:p@ss:1@db.example.com:5432/wh") is not None


def test_slots_of_a_url_template() -> None:
    template = "postgresql://xxxxxx:xxxxx@xxxxxxx:5432/xxxx"
    assert slot_of(template, template.index(":xxxxx") + 1) == "userinfo"
    assert slot_of(template, template.index("@") + 1) == "authority"
    assert slot_of(template, template.rindex("/") + 1) is None
    assert slot_of("${WAREHOUSE_URL}", 0) is None  # a whole URL from the environment is checked as a whole


@pytest.mark.parametrize(
    "url",
    [
        f"postgresql+psycopg://monitor:{HOSTILE}@127.0.0.1:55432/wh",  # written in the file
        "postgresql+psycopg://monitor:p@ss@db.example.com/wh",
    ],
)
def test_a_url_whose_password_moves_the_host_is_rejected_with_how_to_encode(tmp_path: Path, url: str) -> None:
    assert meaning_problem(url) is not None
    root = project_with_url(tmp_path, url)
    with pytest.raises(ConfigError) as caught:
        load_project(root)
    text = caught.value.render()
    assert "sources.wh.url" in text and "unencoded '@'" in text and "@ → %40" in text
    assert HOSTILE not in text


def test_a_whole_url_from_the_environment_is_checked_too(tmp_path: Path) -> None:
    root = project_with_url(tmp_path, "${WAREHOUSE_URL}")
    with pytest.raises(ConfigError, match="unencoded '@'"):
        load_project(root, {"WAREHOUSE_URL": f"postgresql://monitor:{HOSTILE}@10.0.0.5:5432/wh"})
    assert load_project(root, {"WAREHOUSE_URL": "postgresql://monitor:p%40ss@10.0.0.5:5432/wh"})


def test_an_env_value_that_would_rewrite_the_host_is_rejected(tmp_path: Path) -> None:
    root = project_with_url(tmp_path, "postgresql://monitor@${DB_HOST}:5432/wh")
    with pytest.raises(ConfigError, match="would change the URL's host"):
        load_project(root, {"DB_HOST": "evil.example.com/x?host=/tmp"})
    assert load_project(root, {"DB_HOST": "db.example.com"})


def test_inline_passwords_are_a_warning_and_an_error_with_strict(tmp_path: Path) -> None:
    root = project_with_url(tmp_path, "postgresql+psycopg://monitor:hunter2inline@127.0.0.1:5432/wh")
    assert any("inline credentials" in w for w in load_project(root).warnings)
    relaxed = cli.invoke(app, ["validate", "-p", str(root)])
    assert relaxed.exit_code == 0 and "warning" in relaxed.output and "inline credentials" in relaxed.output
    assert "hunter2inline" not in relaxed.output
    strict = cli.invoke(app, ["validate", "-p", str(root), "--strict"])
    assert strict.exit_code == 2 and "error" in strict.output


def test_env_references_raise_no_inline_warning(tmp_path: Path) -> None:
    root = project_with_url(tmp_path, "postgresql+psycopg://monitor:${PW}@127.0.0.1:5432/wh")
    assert load_project(root, {"PW": "x"}).warnings == ()
    assert cli.invoke(app, ["validate", "-p", str(root), "--strict"], env={"PW": "pw"}).exit_code == 0
