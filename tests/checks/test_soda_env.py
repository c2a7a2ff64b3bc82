"""The Soda patches refuse to run on a soda-core whose private parts they replace have changed."""

from __future__ import annotations

from importlib import metadata

import pytest
from soda_core.common import yaml as soda_yaml
from soda_core.common.sql_dialect import SqlDialect

from datahealth.checks import soda_env
from datahealth.checks.soda_env import SodaInternalsError, prepare_soda, verify_soda_internals

SODA_VERSION = metadata.version("soda-core")


@pytest.fixture
def unprepared(monkeypatch: pytest.MonkeyPatch) -> None:
    """prepare_soda as in a fresh process (the patches it installs are restored after the test)."""
    monkeypatch.setattr(soda_env, "_ready", False)
    for owner, name in ((soda_yaml.YamlSource, "_YamlSource__yaml_parser"), (SqlDialect, "quote_default")):
        monkeypatch.setattr(owner, name, vars(owner)[name])


def test_the_installed_soda_core_has_everything_we_replace() -> None:
    verify_soda_internals()
    prepare_soda()
    assert isinstance(vars(soda_yaml.YamlSource)["_YamlSource__yaml_parser"], soda_env._PerThreadYamlParser)
    assert SqlDialect.quote_default is soda_env._quote_default


def test_a_missing_yaml_parser_fails_loudly_with_attribute_and_version(
    unprepared: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delattr(soda_yaml.YamlSource, "_YamlSource__yaml_parser")
    quote_before = vars(SqlDialect)["quote_default"]
    with pytest.raises(SodaInternalsError) as raised:
        prepare_soda()
    message = str(raised.value)
    assert "soda_core.common.yaml.YamlSource._YamlSource__yaml_parser is missing" in message
    assert f"soda-core {SODA_VERSION}" in message and "not thread-safe" in message
    assert isinstance(raised.value, ImportError)
    assert vars(SqlDialect)["quote_default"] is quote_before  # nothing was patched half-way
    assert soda_env._ready is False


def test_a_parser_of_another_shape_fails_loudly(unprepared: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(soda_yaml.YamlSource, "_YamlSource__yaml_parser", object())
    with pytest.raises(SodaInternalsError, match="_YamlSource__yaml_parser has no `ruamel_yaml_parser`"):
        verify_soda_internals()


def test_a_missing_quote_function_fails_loudly(unprepared: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delattr(SqlDialect, "quote_default")
    with pytest.raises(SodaInternalsError) as raised:
        prepare_soda()
    assert "SqlDialect.quote_default is missing" in str(raised.value)
    assert f"soda-core {SODA_VERSION}" in str(raised.value)


def test_a_quote_function_with_another_signature_fails_loudly(
    unprepared: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    def quote_default(self: object, identifier: str, dialect: str) -> str:
        return identifier

    monkeypatch.setattr(SqlDialect, "quote_default", quote_default)
    with pytest.raises(SodaInternalsError, match=r"quote_default now takes \(self, identifier, dialect"):
        verify_soda_internals()


def test_a_missing_quote_character_fails_loudly(unprepared: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delattr(SqlDialect, "DEFAULT_QUOTE_CHAR")
    with pytest.raises(SodaInternalsError, match="SqlDialect.DEFAULT_QUOTE_CHAR is missing"):
        verify_soda_internals()
