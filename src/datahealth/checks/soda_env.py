"""Makes soda-core safe to use from datahealth's worker threads; import Soda only through this module.

Four things must happen before the first contract is verified, and exactly once per process:

* telemetry off (`SODA_CORE_TELEMETRY_ENABLED=false`, via `datahealth.core.envdefaults`): Soda reads it at
  import time and would otherwise call home from every scan, waiting on the network;
* `soda_core` imported before the engines' plugins (`SqlEngine.soda_modules`: `soda_duckdb`,
  `soda_postgres`; the other order logs a harmless but alarming "circular import" error from Soda's
  plugin loader);
* soda-core 4.28 parses every YAML document with ONE class-level ruamel parser, which is not
  thread-safe: concurrent scans crash with `IndexError` or report bogus YAML syntax errors. We give
  each thread its own parser (verified: 0 parse errors in 200 concurrent scans; tests/reliability);
* soda-core 4.28 quotes identifiers as `"` + name + `"` without doubling a `"` inside the name, so one
  column named `a"b` in a contract broke the dataset's whole aggregate query (every check NOT_EVALUATED)
  and a crafted name could change the SQL. We quote the standard way (tests/reliability).

The last two replace private parts of soda-core. `verify_soda_internals` checks that each one is still
there, in the shape we replace, before anything is patched: a soda-core release that renamed one fails
loudly with the attribute and the version, instead of datahealth silently scanning with a shared
parser or unsafe quoting.
"""

from __future__ import annotations

import importlib
import importlib.util
import inspect
import threading
from importlib import metadata
from typing import Any

import datahealth.core.envdefaults  # noqa: F401  (telemetry off before soda_core is imported)
from datahealth import engines
from datahealth.core.redaction import install_log_redaction

_lock = threading.Lock()
_ready = False


class _PerThreadYamlParser(threading.local):
    """Stands in for soda's shared `YamlParser`: `ruamel_yaml_parser` is created once per thread."""

    def __init__(self) -> None:
        from ruamel.yaml import YAML

        self.ruamel_yaml_parser = YAML()
        self.ruamel_yaml_parser.preserve_quotes = True


def _quote_default(dialect: Any, identifier: str | None) -> str | None:
    """Soda's `SqlDialect.quote_default` with the quote character doubled inside the name (SQL standard)."""
    if not isinstance(identifier, str) or not identifier:
        return None
    quote = dialect.DEFAULT_QUOTE_CHAR
    return f"{quote}{identifier.replace(quote, quote * 2)}{quote}"


SODA_CORE_TESTED = "4.28"


class SodaInternalsError(ImportError):
    """soda-core no longer has a private attribute datahealth replaces (a soda-core upgrade)."""


def _soda_internals_error(attribute: str, problem: str, why: str) -> SodaInternalsError:
    try:
        version = metadata.version("soda-core")
    except metadata.PackageNotFoundError:
        version = "(not installed)"
    return SodaInternalsError(
        f"datahealth cannot patch soda-core {version}: {attribute} {problem}. datahealth replaces it "
        f"because {why}. datahealth is tested with soda-core {SODA_CORE_TESTED}.x: install the "
        "version in requirements/runtime.lock (make install), or a datahealth release made for this one."
    )


def verify_soda_internals() -> None:
    """Raise SodaInternalsError unless every private attribute `prepare_soda` replaces is as we know it."""
    from soda_core.common import yaml as soda_yaml
    from soda_core.common.sql_dialect import SqlDialect

    parser_name = "soda_core.common.yaml.YamlSource._YamlSource__yaml_parser"
    parser_why = "soda's one shared YAML parser is not thread-safe"
    yaml_source = getattr(soda_yaml, "YamlSource", None)
    if yaml_source is None or "_YamlSource__yaml_parser" not in vars(yaml_source):
        raise _soda_internals_error(parser_name, "is missing", parser_why)
    parser = vars(yaml_source)["_YamlSource__yaml_parser"]
    if not hasattr(parser, "ruamel_yaml_parser"):
        raise _soda_internals_error(parser_name, "has no `ruamel_yaml_parser`", parser_why)

    quote_why = "soda's quoting does not double a quote character inside a name"
    quote = vars(SqlDialect).get("quote_default")
    if quote is None:
        raise _soda_internals_error(
            "soda_core.common.sql_dialect.SqlDialect.quote_default", "is missing", quote_why
        )
    parameters = list(inspect.signature(quote).parameters)
    if quote is not _quote_default and parameters != ["self", "identifier"]:  # ours once patched
        raise _soda_internals_error(
            "soda_core.common.sql_dialect.SqlDialect.quote_default",
            f"now takes ({', '.join(parameters)}), not (self, identifier)",
            quote_why,
        )
    if not isinstance(getattr(SqlDialect, "DEFAULT_QUOTE_CHAR", None), str):
        raise _soda_internals_error(
            "soda_core.common.sql_dialect.SqlDialect.DEFAULT_QUOTE_CHAR", "is missing", quote_why
        )


def prepare_soda() -> None:
    """Import soda in the right order and install the per-thread YAML parser (idempotent, thread-safe)."""
    global _ready
    if _ready:
        return
    with _lock:
        if _ready:
            return
        import soda_core.contracts  # noqa: F401  (first: registers the check types)
        from soda_core.common import yaml as soda_yaml

        verify_soda_internals()  # before patching anything: all or nothing

        soda_yaml.YamlSource._YamlSource__yaml_parser = _PerThreadYamlParser()  # type: ignore[attr-defined]
        from soda_core.common.sql_dialect import SqlDialect

        SqlDialect.quote_default = _quote_default  # type: ignore[method-assign]
        for engine in engines.with_checks():  # after soda_core, see module docstring
            for module in engine.soda_modules:
                # a warehouse's plugin comes with its extra (datahealth[warehouses]); a runtime-only
                # install (make demo) has none, and the engines it lacks are never asked to check
                if importlib.util.find_spec(module.partition(".")[0]) is not None:
                    importlib.import_module(module)

        install_log_redaction("soda")  # Soda logs driver errors; a password echoed there must be masked
        _ready = True
