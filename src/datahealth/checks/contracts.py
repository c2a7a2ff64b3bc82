"""The effective contract of a dataset: the user's `checks/<source>/<dataset>.yml` plus generated checks.

Users write soda-core v4 contracts without connection details: `dataset:` is derived from sla_config
(written in when missing, overwritten when it differs). Generated checks come from config and history:

* `primary_key_duplicates`: `duplicate` on the primary key (one column) or over its columns (several);
* `required_columns_missing`: `missing` on each required column;
* `schema`: a `schema` check against the last accepted schema snapshot (added, removed or retyped
  columns fail; column order is ignored);
* `row_count_bounds`: a `row_count` band learned from history once enough days of it exist.

Each is switched off per dataset with `checks: {<switch>: false}`. When the user's contract already has
a check with the same identity (same type at the same place, no qualifier), the user's check wins and the
generated one is skipped. The merged document is kept as a ruamel round-trip tree, so `checks show`
prints the user's comments and quoting as written, with generated entries marked by a comment, and Soda
receives exactly that text.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import MarkedYAMLError, YAMLError

from datahealth.checks.baselines import HistoryBaselines
from datahealth.checks.data_sources import SodaTarget
from datahealth.config.models import DatasetConfig, Project

USER = "user"
GENERATED = "generated"
KNOWN_KEYS = (
    "dataset",
    "description",
    "filter",
    "variables",
    "soda_runner",
    "soda_agent",
    "scopes",
    "columns",
    "checks",
)


class ContractError(Exception):
    """The user's contract file cannot be used; the message names the file and line and says what to fix."""


@dataclass(frozen=True)
class ContractCheck:
    """One check of the effective contract, identified the way Soda reports it (`relative_path`)."""

    path: str
    check_type: str
    column: str | None
    qualifier: str | None
    origin: str
    switch: str | None = None  # the GeneratedChecks switch that turns a generated check off

    @property
    def name(self) -> str:
        """Stable across runs (it is part of finding fingerprints): `email.missing`, `row_count`, `schema`."""
        parts = [self.column] if self.column else []
        parts.append(self.check_type)
        if self.qualifier:
            parts.append(self.qualifier)
        return ".".join(parts)


@dataclass
class EffectiveContract:
    """What one Soda scan of a dataset runs, and where each of its checks came from."""

    dataset: str
    target: SodaTarget
    document: CommentedMap
    checks: list[ContractCheck]
    user_file: Path
    display_path: str
    user_file_exists: bool = False
    user_error: str | None = None
    warnings: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def check_at(self, path: str) -> ContractCheck | None:
        return next((c for c in self.checks if c.path == path), None)

    def to_yaml(self) -> str:
        return dump_yaml(self.document)

    def without_columns(self, missing: set[str]) -> list[ContractCheck]:
        """Drop the checks on columns the table does not have and return them.

        Soda puts all column checks in one aggregate query, so one unknown column would leave every check
        of the dataset unevaluated. Dropped checks become errors of their own; the column entries stay so
        that a schema check still reports the column as missing.
        """
        dropped = [c for c in self.checks if c.column in missing]
        if not dropped:
            return []
        for entry in _column_entries(self.document):
            if entry.get("name") in missing and "checks" in entry:
                del entry["checks"]
        self.checks = [c for c in self.checks if c.column not in missing]
        return dropped


def build_contract(
    project: Project,
    dataset: DatasetConfig,
    target: SodaTarget,
    baselines: HistoryBaselines,
    *,
    include_user: bool = True,
) -> EffectiveContract:
    """Merge the user's contract (if any) with the generated checks; an invalid user file is recorded, not raised.

    `include_user=False` gives the generated checks alone (the fallback when Soda rejects the user's part).
    """
    path = project.checks_file(dataset)
    display = _display_path(path, project.root)
    contract = EffectiveContract(dataset.name, target, CommentedMap(), [], path, display, path.is_file())
    document = CommentedMap()
    if contract.user_file_exists and include_user:
        try:
            document = load_user_contract(path, display)
        except ContractError as exc:
            contract.user_error = str(exc)
            contract.notes.append("the user contract is invalid: only generated checks run until it is fixed")
    contract.warnings.extend(_unknown_keys(document, display))
    _set_dataset(document, target.qualified_name, display, contract.notes)
    if (
        document.get("columns") is None
    ):  # absent, or `columns:` left empty (found by tests/reliability fuzzing)
        document["columns"] = CommentedSeq()
    if document.get("checks") == []:  # Soda rejects the whole contract for an empty dataset-level list
        del document["checks"]
    contract.document = document
    user_checks = list(iter_checks(document))
    contract.checks = [ContractCheck(p, t, c, q, USER) for p, t, c, q in user_checks]
    _Generator(contract, dataset, baselines, {p for p, _, _, q in user_checks if q is None}).generate()
    return contract


def load_user_contract(path: Path, display: str) -> CommentedMap:
    """Parse and shape-check the user's contract; ContractError says what is wrong and where."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ContractError(f"{display}: cannot read the contract ({exc.strerror})") from None
    try:
        data = _yaml().load(text)
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f" line {mark.line + 1}" if mark else ""
        raise ContractError(f"{display}{where}: invalid YAML: {exc.problem or exc.context}") from None
    except YAMLError as exc:  # e.g. a control character the YAML reader refuses before parsing starts
        raise ContractError(f"{display}: invalid YAML: {str(exc).splitlines()[-1].strip()}") from None
    if data is None:
        return CommentedMap()
    if not isinstance(data, CommentedMap):
        raise ContractError(
            f"{display}: a contract must be a mapping with 'columns:' and/or 'checks:' "
            f"(found {'a list' if isinstance(data, list) else type(data).__name__})"
        )
    _check_shape(data, display)
    return data


def _check_shape(data: CommentedMap, display: str) -> None:
    columns = data.get("columns")
    if columns is not None:
        if not isinstance(columns, list):
            raise ContractError(
                f"{display} line {_line(data, 'columns')}: 'columns' must be a list (- name: <column>)"
            )
        for index, entry in enumerate(columns):
            if not isinstance(entry, dict) or not isinstance(entry.get("name"), str):
                raise ContractError(
                    f"{display} line {_item_line(columns, index)}: each column needs a 'name' "
                    "(- name: <column>)"
                )
            checks = entry.get("checks")
            if checks is not None and not isinstance(checks, list):
                raise ContractError(
                    f"{display} line {_line(entry, 'checks')}: 'checks' of column "
                    f"'{entry['name']}' must be a list (- missing: {{}})"
                )
    checks = data.get("checks")
    if checks is not None and not isinstance(checks, list):
        raise ContractError(
            f"{display} line {_line(data, 'checks')}: 'checks' must be a list (- row_count: {{}})"
        )


def _unknown_keys(document: CommentedMap, display: str) -> list[str]:
    """Soda silently ignores unknown top-level keys; a typo (`column:`) would drop checks without a word."""
    return [
        f"{display} line {_line(document, key)}: unknown key '{key}' is ignored by Soda "
        f"(known: {', '.join(KNOWN_KEYS)})"
        for key in document
        if key not in KNOWN_KEYS
    ]


def _set_dataset(document: CommentedMap, qualified_name: str, display: str, notes: list[str]) -> None:
    written = document.get("dataset")
    if written is not None and written != qualified_name:
        notes.append(
            f"{display}: dataset '{written}' replaced by '{qualified_name}' (derived from sla_config)"
        )
    if "dataset" in document:
        document["dataset"] = qualified_name
    else:
        document.insert(0, "dataset", qualified_name)
    document.yaml_add_eol_comment("derived from sla_config", "dataset")


def iter_checks(document: CommentedMap) -> Iterator[tuple[str, str, str | None, str | None]]:
    """(Soda relative path, type, column, qualifier) of every check in a contract document."""
    for entry in _column_entries(document):
        for item in entry.get("checks") or []:
            check_type, qualifier = _type_and_qualifier(item)
            yield _path(check_type, qualifier, entry["name"]), check_type, entry["name"], qualifier
    for item in document.get("checks") or []:
        check_type, qualifier = _type_and_qualifier(item)
        yield _path(check_type, qualifier, None), check_type, None, qualifier


def _path(check_type: str, qualifier: str | None, column: str | None) -> str:
    path = f"columns.{column}.checks.{check_type}" if column else f"checks.{check_type}"
    return f"{path}.{qualifier}" if qualifier else path


def _type_and_qualifier(item: Any) -> tuple[str, str | None]:
    if isinstance(item, dict) and item:
        check_type = str(next(iter(item)))
        body = item[check_type]
        qualifier = body.get("qualifier") if isinstance(body, dict) else None
        return check_type, None if qualifier is None else str(qualifier)
    return str(item), None


def _column_entries(document: CommentedMap) -> list[CommentedMap]:
    columns = document.get("columns") or []
    return [c for c in columns if isinstance(c, CommentedMap) and isinstance(c.get("name"), str)]


class _Generator:
    """Adds the generated checks to a contract document, skipping those the user already wrote."""

    def __init__(
        self,
        contract: EffectiveContract,
        dataset: DatasetConfig,
        baselines: HistoryBaselines,
        user_identities: set[str],
    ) -> None:
        self.contract = contract
        self.document = contract.document
        self.dataset = dataset
        self.baselines = baselines
        self.user_identities = user_identities

    def generate(self) -> None:
        switches = self.dataset.checks
        if switches.primary_key_duplicates and self.dataset.primary_key:
            key = self.dataset.primary_key
            if len(key) == 1:
                self._column_check(
                    key[0], "duplicate", CommentedMap(), "primary_key_duplicates", "primary key"
                )
            else:
                self._dataset_check(
                    "duplicate", CommentedMap(columns=_flow_seq(key)), "primary_key_duplicates", "primary key"
                )
        if switches.required_columns_missing:
            for column in self.dataset.required_columns:
                self._column_check(
                    column, "missing", CommentedMap(), "required_columns_missing", "required column"
                )
        if switches.schema_check:
            self._schema()
        if switches.row_count_bounds:
            self._row_count()

    def _schema(self) -> None:
        columns = self.baselines.accepted_columns
        if columns is None:
            self.contract.notes.append("schema: no accepted schema snapshot yet (the first run records one)")
            return
        if "checks.schema" in self.user_identities:
            self.contract.notes.append("schema: the user's schema check replaces the generated one")
            return
        for column in columns:
            existed = any(e["name"] == column.name for e in _column_entries(self.document))
            entry = self._column_entry(column.name, "accepted schema")
            if "data_type" not in entry:
                expected = self.contract.target.engine.soda_data_type(column)
                for key, value in expected.items():
                    entry[key] = value
                if (
                    existed and "data_type" in expected
                ):  # an entry of the user's (or a check's): mark our part
                    entry.yaml_add_eol_comment("generated: accepted schema", "data_type")
        self._dataset_check(
            "schema",
            CommentedMap(allow_other_column_order=True),
            "schema",
            f"accepted schema, {len(columns)} columns",
        )

    def _row_count(self) -> None:
        bounds = self.baselines.row_count_bounds
        if bounds is None:
            if self.baselines.row_count_note:
                self.contract.notes.append(self.baselines.row_count_note)
            return
        if self.document.get("filter"):
            self.contract.notes.append(
                "row_count bounds skipped: the contract's dataset filter changes what is counted"
            )
            return
        between = CommentedMap(greater_than_or_equal=bounds.lower, less_than_or_equal=bounds.upper)
        between.fa.set_flow_style()
        threshold = CommentedMap(threshold=CommentedMap(must_be_between=between))
        self._dataset_check("row_count", threshold, "row_count_bounds", bounds.explain())

    def _column_check(self, column: str, check_type: str, body: CommentedMap, switch: str, why: str) -> None:
        path = _path(check_type, None, column)
        if path in self.user_identities:
            self.contract.notes.append(f"{column}.{check_type}: the user's check replaces the generated one")
            return
        entry = self._column_entry(column, why)
        checks = entry.get("checks")
        if checks is None:
            checks = entry["checks"] = CommentedSeq()
        checks.fa.set_block_style()
        checks.append(_check_item(check_type, body, f"generated: {switch} ({why})"))
        self.contract.checks.append(ContractCheck(path, check_type, column, None, GENERATED, switch))

    def _dataset_check(self, check_type: str, body: CommentedMap, switch: str, why: str) -> None:
        path = _path(check_type, None, None)
        if path in self.user_identities:
            self.contract.notes.append(f"{check_type}: the user's check replaces the generated one")
            return
        checks = self.document.get("checks")
        if checks is None:
            checks = self.document["checks"] = CommentedSeq()
        checks.fa.set_block_style()
        checks.append(_check_item(check_type, body, f"generated: {switch} ({why})"))
        self.contract.checks.append(ContractCheck(path, check_type, None, None, GENERATED, switch))

    def _column_entry(self, name: str, why: str) -> CommentedMap:
        columns = self.document["columns"]
        for entry in _column_entries(self.document):
            if entry["name"] == name:
                entry.fa.set_block_style()
                return entry
        columns.fa.set_block_style()
        entry = CommentedMap(name=name)
        columns.append(entry)
        entry.yaml_add_eol_comment(f"generated: {why}", "name")
        return entry


def _check_item(check_type: str, body: CommentedMap, comment: str) -> CommentedMap:
    if not body:
        body.fa.set_flow_style()
    item = CommentedMap({check_type: body})
    item.yaml_add_eol_comment(comment, check_type)
    return item


def _flow_seq(values: list[str]) -> CommentedSeq:
    seq = CommentedSeq(values)
    seq.fa.set_flow_style()
    return seq


def _yaml() -> YAML:
    """A fresh round-trip parser per call: ruamel parsers are not thread-safe (nor is Soda's, see soda_env)."""
    parser = YAML()
    parser.preserve_quotes = True
    parser.indent(mapping=2, sequence=4, offset=2)
    parser.width = 120
    return parser


def dump_yaml(document: CommentedMap) -> str:
    stream = io.StringIO()
    _yaml().dump(document, stream)
    return stream.getvalue()


def _line(mapping: Any, key: str) -> int | str:
    try:
        return int(mapping.lc.key(key)[0]) + 1
    except (AttributeError, KeyError, TypeError):
        return "?"


def _item_line(seq: Any, index: int) -> int | str:
    try:
        return int(seq.lc.item(index)[0]) + 1
    except (AttributeError, KeyError, TypeError, IndexError):
        return "?"


def _display_path(path: Path, root: Path) -> str:
    try:
        return str(path.relative_to(root))
    except ValueError:
        return str(path)
