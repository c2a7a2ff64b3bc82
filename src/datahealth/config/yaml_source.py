"""Reads YAML while remembering the line of every key and expanding `${ENV_VAR}` references.

PyYAML's `safe_load` forgets where values came from; composing nodes ourselves keeps the line of each key
so that a validation error can point at `sla_config/datasets.yaml:14`. Environment variables are expanded
after parsing (so a value can never inject YAML syntax), and every expanded value is registered with the
redactor because env vars are where secrets live. `${prefect.secret:NAME}` reads a Prefect Secret block
the same way (`prefect_secrets.py`).
"""

from __future__ import annotations

import os
import re
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

import datahealth.config.urls as urls
from datahealth.config.bounded_yaml import AliasBudget, LimitExceeded, compose, read_config_text
from datahealth.config.errors import ConfigIssue
from datahealth.config.prefect_secrets import PREFECT_SECRET_REF, PrefectSecretError, read_prefect_secret
from datahealth.core.redaction import register_secret

_ENV_REF = re.compile(r"\$\{(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?::-(?P<default>[^}]*))?\}")
_REFERENCE = re.compile(f"{PREFECT_SECRET_REF.pattern}|{_ENV_REF.pattern}")
KeyPath = tuple[str | int, ...]
_SECRET_KEYS = {"password", "secret", "token", "api_key", "sasl_plain_password"}


@dataclass
class YamlDocument:
    """A parsed YAML file: its data, the line of each key path, and problems found while reading it."""

    path: Path
    data: Any
    lines: dict[KeyPath, int] = field(default_factory=dict)
    issues: list[ConfigIssue] = field(default_factory=list)
    warnings: list[ConfigIssue] = field(default_factory=list)  # valid, but worth changing (inline secrets)
    unset: list[KeyPath] = field(default_factory=list)  # references left empty under `optional_env` sections
    optional_env: tuple[str, ...] = ()

    def line_of(self, key_path: KeyPath) -> int | None:
        """The line of the deepest known prefix of `key_path` (a bad value may sit inside a known key)."""
        for length in range(len(key_path), 0, -1):
            line = self.lines.get(tuple(key_path[:length]))
            if line is not None:
                return line
        return None


def dotted(key_path: KeyPath) -> str:
    """`('datasets', 'warehouse.orders', 'sla', 'warn_after')` → `datasets.warehouse.orders.sla.warn_after`."""
    out = ""
    for part in key_path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def read_yaml(
    path: Path, environ: dict[str, str] | None = None, optional_env: tuple[str, ...] = ()
) -> YamlDocument:
    """Parse `path`, expand env references, and collect issues instead of raising.

    Under the top-level sections in `optional_env` an unset variable is left empty and recorded in
    `doc.unset` instead of being an error (read-only commands never connect to sources, so they must
    not need the sources' secrets).
    """
    env = os.environ if environ is None else environ
    doc = YamlDocument(path=path, data=None)
    doc.optional_env = optional_env
    try:
        text = read_config_text(path)
        node = compose(text)
    except OSError as exc:
        doc.issues.append(
            ConfigIssue(path, "", f"cannot read the file ({exc.strerror})", "check the path and permissions")
        )
        return doc
    except LimitExceeded as exc:
        doc.issues.append(ConfigIssue(path, "", exc.message, exc.fix, line=exc.line))
        return doc
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        doc.issues.append(
            ConfigIssue(
                path,
                "",
                f"invalid YAML: {problem}",
                "fix the YAML syntax (indentation, colons, quotes)",
                line=mark.line + 1 if mark else None,
            )
        )
        return doc
    if node is None:
        doc.data = {}
        return doc
    try:
        doc.data = _build(node, (), doc, env, AliasBudget())
    except LimitExceeded as exc:
        doc.issues.append(ConfigIssue(path, "", exc.message, exc.fix, line=exc.line))
        doc.data = None
    except yaml.YAMLError as exc:  # a scalar no safe constructor accepts (e.g. a bare `=` or `!!python/...`)
        mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        doc.issues.append(
            ConfigIssue(
                path,
                "",
                f"invalid YAML value: {problem}",
                'quote the value, e.g. key: "="',
                line=mark.line + 1 if mark else None,
            )
        )
        doc.data = None
    return doc


def _build(
    node: yaml.Node, key_path: KeyPath, doc: YamlDocument, env: Any, budget: AliasBudget, alias: bool = False
) -> Any:
    alias = budget.visit(node, alias)
    if isinstance(node, yaml.CollectionNode):
        budget.enter(node)
        try:
            return _build_collection(node, key_path, doc, env, budget, alias)
        finally:
            budget.leave(node)
    return _build_scalar(node, key_path, doc, env)


def _build_collection(
    node: yaml.CollectionNode,
    key_path: KeyPath,
    doc: YamlDocument,
    env: Any,
    budget: AliasBudget,
    alias: bool,
) -> Any:
    if isinstance(node, yaml.MappingNode):
        result: dict[str, Any] = {}
        for key_node, value_node in node.value:
            key = str(_build(key_node, key_path, doc, env, budget, alias))
            child = (*key_path, key)
            doc.lines[child] = key_node.start_mark.line + 1
            if key in result:
                doc.issues.append(
                    ConfigIssue(
                        doc.path,
                        dotted(child),
                        "duplicate key",
                        "keep one of the two entries",
                        line=key_node.start_mark.line + 1,
                    )
                )
            result[key] = _build(value_node, child, doc, env, budget, alias)
        return result
    if isinstance(node, yaml.SequenceNode):
        items = []
        for index, item in enumerate(node.value):
            child = (*key_path, index)
            doc.lines[child] = item.start_mark.line + 1
            items.append(_build(item, child, doc, env, budget, alias))
        return items
    raise AssertionError(f"unknown YAML collection {type(node).__name__}")


def _build_scalar(node: yaml.Node, key_path: KeyPath, doc: YamlDocument, env: Any) -> Any:
    value = _construct_scalar(node)
    if not isinstance(value, str):
        return value
    line = node.start_mark.line + 1
    if key_path and str(key_path[-1]).lower() in _SECRET_KEYS and value and "${" not in value:
        register_secret(value)
        doc.warnings.append(
            ConfigIssue(
                doc.path,
                dotted(key_path),
                "a secret is written in the file (inline credentials)",
                f"write {key_path[-1]}: ${{SOME_ENV_VAR}} and set the environment variable instead",
                line=line,
            )
        )
    if "://" in value and "@" in value:
        _check_url(value, key_path, line, doc)
    if "${" in value:
        value = _expand_env(value, key_path, line, doc, env)
        if "://" in value and "@" in value:
            _check_url(value, key_path, line, doc, written=False)
    return value


def _check_url(value: str, key_path: KeyPath, line: int, doc: YamlDocument, written: bool = True) -> None:
    """A URL must reach the server its text names; a password written in the file is worth a warning."""
    problem = urls.meaning_problem(value)
    if problem is not None and not (written and "${" in value):
        doc.issues.append(ConfigIssue(doc.path, dotted(key_path), problem, urls.ENCODE_FIX, line=line))
    if written and urls.literal_password(value):
        register_secret(urls.password_of(value))  # the password only: a database name is no secret
        doc.warnings.append(
            ConfigIssue(
                doc.path,
                dotted(key_path),
                "a password is written in the file (inline credentials)",
                "write user:${PASSWORD}@ and set the environment variable instead",
                line=line,
            )
        )


_scalar_loaders = threading.local()


def _construct_scalar(node: yaml.Node) -> Any:
    """The Python value of a scalar node; one loader per thread (making one per scalar is slow)."""
    loader = getattr(_scalar_loaders, "loader", None)
    if loader is None:
        loader = _scalar_loaders.loader = yaml.SafeLoader("")
    try:
        return loader.construct_object(node, deep=True)
    finally:
        loader.constructed_objects.clear()
        loader.recursive_objects.clear()


def _expand_env(value: str, key_path: KeyPath, line: int, doc: YamlDocument, env: Any) -> str:
    masked = _REFERENCE.sub(lambda m: "x" * len(m.group()), value)  # a URL's shape, positions kept

    def from_prefect(match: re.Match[str]) -> str:
        name = match.group("secret")
        try:
            secret = read_prefect_secret(name)
        except PrefectSecretError as exc:
            doc.issues.append(
                ConfigIssue(
                    doc.path,
                    dotted(key_path),
                    str(exc),
                    f"create it (Prefect UI → Blocks → Secret, or `Secret(value=...).save({name!r})`) on the "
                    "server PREFECT_API_URL points at, or use ${ENV_VAR} instead",
                    line=line,
                )
            )
            return ""
        register_secret(secret)
        if urls.slot_of(masked, match.start()) == "userinfo":
            return urls.encode_userinfo_value(secret)
        return secret

    def replace(match: re.Match[str]) -> str:
        if match.group("secret") is not None:
            return from_prefect(match)
        name, default = match.group("name"), match.group("default")
        found = str(env[name]) if name in env else default
        if name in env:
            register_secret(found)
        if found is None:
            return _missing(name)
        slot = urls.slot_of(masked, match.start())
        if slot == "userinfo":
            return urls.encode_userinfo_value(found)
        if slot == "authority" and urls.escapes_authority(found):
            doc.issues.append(
                ConfigIssue(
                    doc.path,
                    dotted(key_path),
                    f"the value of {name} contains '@', '/', '?' or '#' and would change the URL's host",
                    "set it to the host name (and port) only",
                    line=line,
                )
            )
        return found

    def _missing(name: str) -> str:
        if key_path and key_path[0] in doc.optional_env:
            doc.unset.append(key_path)
            return ""
        doc.issues.append(
            ConfigIssue(
                doc.path,
                dotted(key_path),
                f"environment variable {name} is not set",
                f"export {name}=... before running, or write ${{{name}:-default}} to give a default",
                line=line,
            )
        )
        return ""

    return _REFERENCE.sub(replace, value)  # one pass: a substituted value is never expanded again
