"""A user's contract checked against the JSON schema soda-core 4 ships, with errors a person can act on.

Soda verifies a contract only when it runs it, and a typo (`valid_vals:` for `valid_values:`) then fails
the whole dataset's checks with no reason. soda-core ships the schema of its contract language
(`soda_core/contracts/soda_data_contract_json_schema_1_0_0.json`); we validate against that file rather
than keep a copy of the language, and turn its `anyOf`/`oneOf` error trees into the one error that
matters: the deepest branch that recognised the check type, the unknown key and its nearest valid name,
with the file's line.
"""

from __future__ import annotations

import difflib
import functools
import json
from collections.abc import Iterator
from importlib import resources
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError

from datahealth.config.errors import ConfigIssue

_SCHEMA_PACKAGE = "soda_core.contracts"
_SCHEMA_FILE = "soda_data_contract_json_schema_1_0_0.json"
_DERIVED = "source/derived/from/sla_config"
_DOCS = "see https://docs.soda.io data contract language reference"


@functools.cache
def _validator() -> Draft202012Validator:
    schema = json.loads((resources.files(_SCHEMA_PACKAGE) / _SCHEMA_FILE).read_text(encoding="utf-8"))
    return Draft202012Validator(schema)


@functools.cache
def check_types(level: str) -> tuple[str, ...]:
    """The check types Soda's schema allows at `level` ('columns' or 'checks'), read from the schema."""
    schema = _validator().schema["properties"][level]
    items = schema["items"]
    if level == "columns":
        items = next(
            part["properties"]["checks"]["items"]
            for part in items["allOf"]
            if "checks" in part.get("properties", {})
        )
    names: set[str] = set()
    for branch in items.get("anyOf", []):
        names.update(branch.get("properties", {}))
    return tuple(sorted(names))


def contract_schema_issues(document: Any, file: Path) -> list[ConfigIssue]:
    """Every way `document` (a parsed contract, ruamel or plain) breaks Soda's contract schema."""
    plain = _plain(document)
    if isinstance(plain, dict):  # what build_contract fills in before Soda sees the contract
        plain.setdefault("dataset", _DERIVED)  # derived from sla_config
        if plain.get("columns") is None:
            plain["columns"] = []
        if plain.get("checks") == []:
            del plain["checks"]
    issues: list[ConfigIssue] = []
    for error in sorted(_validator().iter_errors(plain), key=lambda e: list(map(str, e.path))):
        for leaf in _leaves(error):
            issues.append(_issue(leaf, document, file))
    return _dedupe(issues)


def _plain(node: Any) -> Any:
    """ruamel's CommentedMap/Seq and scalars as the plain JSON types jsonschema expects."""
    if isinstance(node, dict):
        return {str(key): _plain(value) for key, value in node.items()}
    if isinstance(node, list):
        return [_plain(value) for value in node]
    if isinstance(node, bool) or node is None:
        return node
    if isinstance(node, int | float):
        return int(node) if isinstance(node, int) else float(node)
    return str(node)


def _leaves(error: ValidationError) -> Iterator[ValidationError]:
    """The errors that explain `error`: for a failed anyOf/oneOf, those of the branch that got furthest.

    Branches that only say "not null" (the `missing:` shorthand) or "unexpected <type>" (another check
    type's branch) are not the explanation; the branch whose error sits deepest in the document is.
    """
    if not error.context:
        yield error
        return
    candidates = [c for c in error.context if not _is_null_alternative(c)]
    if not candidates:
        yield error
        return
    deepest = max(len(c.absolute_path) for c in candidates)
    chosen = [c for c in candidates if len(c.absolute_path) == deepest]
    if deepest == len(error.absolute_path) and len(chosen) > 1:
        yield chosen[0]  # every branch rejected the item itself (an unknown check type): one error
        return
    for child in chosen:
        yield from _leaves(child)


def _is_null_alternative(error: ValidationError) -> bool:
    return error.validator == "type" and error.validator_value == "null"


def _issue(error: ValidationError, document: Any, file: Path) -> ConfigIssue:
    path = list(error.absolute_path)
    if error.validator == "additionalProperties" and isinstance(error.instance, dict):
        allowed = sorted(error.schema.get("properties", {}))
        unexpected = [k for k in error.instance if k not in allowed]
        key = unexpected[0] if unexpected else ""
        if _is_check_item(path) and len(error.instance) == 1:
            level = "columns" if path and path[0] == "columns" else "checks"
            known = check_types(level)
            close = difflib.get_close_matches(key, known, n=1)
            hint = f"did you mean '{close[0]}'?" if close else f"check types here: {', '.join(known)}"
            return ConfigIssue(
                file,
                _dotted(document, [*path, key]),
                f"unknown check type '{key}'",
                hint,
                _line(document, [*path, key]),
            )
        close = difflib.get_close_matches(key, allowed, n=1)
        hint = f"did you mean '{close[0]}'?" if close else "remove it"
        where = f"Allowed keys here: {', '.join(allowed)}" if allowed else ""
        return ConfigIssue(
            file,
            _dotted(document, [*path, key]),
            f"unknown key '{key}'",
            f"{hint} {where}".strip(),
            _line(document, [*path, key]),
        )
    if error.validator == "required":
        missing = str(error.message).split("'")[1] if "'" in error.message else ""
        return ConfigIssue(
            file,
            _dotted(document, [*path, missing]),
            "required key is missing",
            f"add '{missing}:'",
            _line(document, path),
        )
    if error.validator == "type":
        wanted = error.validator_value
        wanted_text = " or ".join(wanted) if isinstance(wanted, list) else str(wanted)
        return ConfigIssue(
            file,
            _dotted(document, path),
            f"must be {_a(wanted_text)}",
            f"write {_a(wanted_text)} here ({_DOCS})",
            _line(document, path),
        )
    return ConfigIssue(file, _dotted(document, path), _short(error.message), _DOCS, _line(document, path))


def _is_check_item(path: list[Any]) -> bool:
    """`checks[i]` or `columns[j].checks[i]`: a place where the one key is the check type."""
    return (len(path) == 2 and path[0] == "checks") or (len(path) == 4 and path[2] == "checks")


def _a(type_name: str) -> str:
    names = {"object": "mapping (key: value)", "array": "list", "string": "text value", "null": "nothing"}
    words = " or ".join(names.get(part.strip(), part.strip()) for part in type_name.split(" or "))
    return f"an {words}" if words[:1] in "aeiou" else f"a {words}"


def _short(message: str) -> str:
    return message if len(message) <= 160 else message[:157] + "..."


def _dotted(document: Any, path: list[Any]) -> str:
    """`columns.country.checks[0].invalid.valid_vals`: column entries named by their column."""
    out = ""
    node: Any = document
    for index, part in enumerate(path):
        if isinstance(part, int):
            name = node[part].get("name") if isinstance(node, list) and part < len(node) else None
            named = isinstance(name, str) and index > 0 and path[index - 1] == "columns"
            out += f".{name}" if named else f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
        node = _child(node, part)
    return out


def _child(node: Any, part: Any) -> Any:
    if isinstance(node, dict):
        return node.get(part)
    if isinstance(node, list) and isinstance(part, int) and part < len(node):
        return node[part]
    return None


def _line(document: Any, path: list[Any]) -> int | None:
    """The line of the deepest part of `path` that ruamel remembers (None for plain documents)."""
    line: int | None = None
    node: Any = document
    for part in path:
        marks: Any = getattr(node, "lc", None)
        try:
            if isinstance(node, dict) and part in node:
                line = int(marks.key(part)[0]) + 1
            elif isinstance(node, list) and isinstance(part, int):
                line = int(marks.item(part)[0]) + 1
            else:
                break
        except (AttributeError, KeyError, TypeError, IndexError):
            break
        node = _child(node, part)
    return line


def _dedupe(issues: list[ConfigIssue]) -> list[ConfigIssue]:
    seen: set[str] = set()
    out = []
    for issue in issues:
        if str(issue) not in seen:
            seen.add(str(issue))
            out.append(issue)
    return out
