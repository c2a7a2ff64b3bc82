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
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from datahealth.config.errors import ConfigIssue
from datahealth.config.prefect_secrets import PREFECT_SECRET_REF, PrefectSecretError, read_prefect_secret
from datahealth.core.redaction import register_secret

_ENV_REF = re.compile(r"\$\{(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?::-(?P<default>[^}]*))?\}")
_REFERENCE = re.compile(f"{PREFECT_SECRET_REF.pattern}|{_ENV_REF.pattern}")
KeyPath = tuple[str | int, ...]


@dataclass
class YamlDocument:
    """A parsed YAML file: its data, the line of each key path, and problems found while reading it."""

    path: Path
    data: Any
    lines: dict[KeyPath, int] = field(default_factory=dict)
    issues: list[ConfigIssue] = field(default_factory=list)

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


def read_yaml(path: Path, environ: dict[str, str] | None = None) -> YamlDocument:
    """Parse `path`, expand env references, and collect issues instead of raising."""
    env = os.environ if environ is None else environ
    doc = YamlDocument(path=path, data=None)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        doc.issues.append(
            ConfigIssue(path, "", f"cannot read the file ({exc.strerror})", "check the path and permissions")
        )
        return doc
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
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
        doc.data = _build(node, (), doc, env)
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


def _build(node: yaml.Node, key_path: KeyPath, doc: YamlDocument, env: Any) -> Any:
    if isinstance(node, yaml.MappingNode):
        result: dict[str, Any] = {}
        for key_node, value_node in node.value:
            key = str(_build(key_node, key_path, doc, env))
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
            result[key] = _build(value_node, child, doc, env)
        return result
    if isinstance(node, yaml.SequenceNode):
        items = []
        for index, item in enumerate(node.value):
            child = (*key_path, index)
            doc.lines[child] = item.start_mark.line + 1
            items.append(_build(item, child, doc, env))
        return items
    value = _construct_scalar(node)
    if isinstance(value, str) and "${" in value:
        return _expand_env(value, key_path, node.start_mark.line + 1, doc, env)
    return value


def _construct_scalar(node: yaml.Node) -> Any:
    loader = yaml.SafeLoader("")
    try:
        return loader.construct_object(node, deep=True)
    finally:
        loader.dispose()


def _expand_env(value: str, key_path: KeyPath, line: int, doc: YamlDocument, env: Any) -> str:
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
        return secret

    def replace(match: re.Match[str]) -> str:
        if match.group("secret") is not None:
            return from_prefect(match)
        name, default = match.group("name"), match.group("default")
        if name in env:
            register_secret(env[name])
            return str(env[name])
        if default is not None:
            return default
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
