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
"""

from __future__ import annotations

import importlib
import threading
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

        soda_yaml.YamlSource._YamlSource__yaml_parser = _PerThreadYamlParser()  # type: ignore[attr-defined]
        from soda_core.common.sql_dialect import SqlDialect

        SqlDialect.quote_default = _quote_default  # type: ignore[method-assign]
        for engine in engines.with_checks():  # after soda_core, see module docstring
            for module in engine.soda_modules:
                importlib.import_module(module)

        install_log_redaction("soda")  # Soda logs driver errors; a password echoed there must be masked
        _ready = True
