"""Loads `sla_config/*.yaml` into a validated `Project`, reporting every problem at once.

Files are merged section by section: `sources`, `datasets` and `tiers` are maps merged by key (a key
defined twice is an error naming both files), `routing` lists are concatenated, and the singleton
sections (`project`, `history`, `publish`) may appear in one file only. Pydantic validates the merged
whole; each of its errors is mapped back to the file and line the offending key came from.
"""

from __future__ import annotations

import contextlib
import difflib
import types
import typing
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from datahealth.config.advice import config_warnings
from datahealth.config.errors import ConfigError, ConfigIssue
from datahealth.config.models import STREAM_KINDS, Project, ProjectConfig
from datahealth.config.yaml_source import KeyPath, YamlDocument, dotted, read_yaml
from datahealth.core.redaction import register_secret

CONFIG_DIR = "sla_config"
_MAP_SECTIONS = ("sources", "datasets", "tiers")
_LIST_SECTIONS = ("routing",)
_SINGLE_SECTIONS = ("project", "history", "publish")
_SECTIONS = _MAP_SECTIONS + _LIST_SECTIONS + _SINGLE_SECTIONS
_SOURCE_KINDS = ("sql", "lake", *STREAM_KINDS)


@dataclass(frozen=True)
class _Origin:
    doc: YamlDocument
    path: KeyPath  # the key path inside that document


class _Merger:
    """Merges documents and remembers, for each merged key path, which document it came from."""

    def __init__(self) -> None:
        self.data: dict[str, Any] = {}
        self.origins: dict[KeyPath, _Origin] = {}
        self.issues: list[ConfigIssue] = []

    def add(self, doc: YamlDocument) -> None:
        if doc.data is None:
            return
        if not isinstance(doc.data, dict):
            self.issues.append(
                ConfigIssue(
                    doc.path,
                    "",
                    "the file must be a mapping of sections",
                    f"start with one of: {', '.join(_SECTIONS)}",
                    line=1,
                )
            )
            return
        for section, value in doc.data.items():
            if section not in _SECTIONS:
                self._unknown_section(doc, section)
            elif section in _MAP_SECTIONS:
                self._add_map(doc, section, value)
            elif section in _LIST_SECTIONS:
                self._add_list(doc, section, value)
            else:
                self._add_single(doc, section, value)

    def _unknown_section(self, doc: YamlDocument, section: str) -> None:
        close = difflib.get_close_matches(section, _SECTIONS, n=1)
        hint = f"did you mean '{close[0]}'?" if close else f"top-level sections are: {', '.join(_SECTIONS)}"
        self.issues.append(
            ConfigIssue(doc.path, section, "unknown section", hint, line=doc.line_of((section,)))
        )

    def _add_map(self, doc: YamlDocument, section: str, value: Any) -> None:
        if value is None:
            return
        if not isinstance(value, dict):
            self.issues.append(
                ConfigIssue(
                    doc.path,
                    section,
                    f"'{section}' must be a mapping of names to settings",
                    f"write {section}:\\n  <name>:\\n    key: value",
                    line=doc.line_of((section,)),
                )
            )
            return
        merged = self.data.setdefault(section, {})
        for key, item in value.items():
            previous = self.origins.get((section, key))
            if previous is not None:
                self.issues.append(
                    ConfigIssue(
                        doc.path,
                        f"{section}.{key}",
                        f"defined again (first in {previous.doc.path})",
                        "keep a single definition",
                        line=doc.line_of((section, key)),
                    )
                )
                continue
            if section == "datasets" and isinstance(item, dict):
                item = {"name": key, **item}
            elif section == "datasets" and item is None:
                item = {"name": key}
            merged[key] = item
            self.origins[(section, key)] = _Origin(doc, (section, key))

    def _add_list(self, doc: YamlDocument, section: str, value: Any) -> None:
        if value is None:
            return
        if not isinstance(value, list):
            self.issues.append(
                ConfigIssue(
                    doc.path,
                    section,
                    f"'{section}' must be a list",
                    "start each entry with '- '",
                    line=doc.line_of((section,)),
                )
            )
            return
        merged = self.data.setdefault(section, [])
        for index, item in enumerate(value):
            self.origins[(section, len(merged))] = _Origin(doc, (section, index))
            merged.append(item)

    def _add_single(self, doc: YamlDocument, section: str, value: Any) -> None:
        previous = self.origins.get((section,))
        if previous is not None:
            self.issues.append(
                ConfigIssue(
                    doc.path,
                    section,
                    f"section defined again (first in {previous.doc.path})",
                    "keep the section in one file",
                    line=doc.line_of((section,)),
                )
            )
            return
        self.data[section] = value
        self.origins[(section,)] = _Origin(doc, (section,))

    def locate(self, key_path: KeyPath) -> tuple[Path | None, str, int | None]:
        """Map a key path of the merged data to (file, dotted key, line)."""
        for length in range(len(key_path), 0, -1):
            origin = self.origins.get(tuple(key_path[:length]))
            if origin is not None:
                local = (*origin.path, *key_path[length:])
                return origin.doc.path, dotted(local), origin.doc.line_of(local)
        return None, dotted(key_path), None


def load_project(
    root: Path | str = ".", environ: dict[str, str] | None = None, *, source_secrets: bool = True
) -> Project:
    """Load and validate the monitoring project at `root`; raise ConfigError listing every problem.

    `source_secrets=False` is for commands that only read the history store (`status`, `report`, ...):
    an unset `${ENV}` under `sources:` is then left empty instead of being an error.
    """
    root = Path(root).resolve()
    config_dir = root / CONFIG_DIR
    files = sorted([*config_dir.glob("*.yaml"), *config_dir.glob("*.yml")])
    if not files:
        raise ConfigError(
            [
                ConfigIssue(
                    config_dir,
                    "",
                    "no configuration files found",
                    "run `datahealth init .` to scaffold sla_config/, or cd into your project",
                )
            ]
        )
    merger = _Merger()
    optional_env = () if source_secrets else ("sources",)
    docs = [read_yaml(path, environ, optional_env) for path in files]
    for doc in docs:
        merger.issues.extend(doc.issues)
        merger.add(doc)
    issues = list(merger.issues)
    config: ProjectConfig | None = None
    try:
        config = ProjectConfig.model_validate(_with_default_tier(merger.data))
    except ValidationError as exc:
        issues.extend(_validation_issues(exc, merger, config_dir))
    issues.extend(_cross_check(merger.data, merger, config_dir))
    if issues:
        raise ConfigError(_dedupe(issues))
    assert config is not None
    warnings = (*(str(warning) for doc in docs for warning in doc.warnings), *config_warnings(config))
    return Project(root=root, config=config, warnings=warnings)


def _validation_issues(exc: ValidationError, merger: _Merger, config_dir: Path) -> list[ConfigIssue]:
    issues = []
    for error in exc.errors():
        loc = _clean_loc(error["loc"], merger.data)
        file, key, line = merger.locate(loc)
        message, fix = _explain(error, loc, merger.data)
        issues.append(ConfigIssue(file or config_dir, key, message, fix, line))
    return issues


def _clean_loc(loc: tuple[Any, ...], data: dict[str, Any]) -> KeyPath:
    """Drop pydantic's union-tag segments (e.g. 'sql' in sources.x.sql.url) so paths match the YAML."""
    cleaned: list[str | int] = []
    node: Any = data
    for part in loc:
        if isinstance(node, dict) and part not in node and part in _SOURCE_KINDS:
            continue
        cleaned.append(part)
        node = (
            node.get(part)
            if isinstance(node, dict)
            else (
                node[part] if isinstance(node, list) and isinstance(part, int) and part < len(node) else None
            )
        )
    return tuple(cleaned)


def _explain(error: Any, loc: KeyPath, data: dict[str, Any]) -> tuple[str, str]:
    kind, msg = error["type"], error["msg"]
    if kind == "extra_forbidden":
        allowed = sorted(_allowed_keys(loc[:-1], data))
        close = difflib.get_close_matches(str(loc[-1]), allowed, n=1)
        fix = f"did you mean '{close[0]}'?" if close else "remove it"
        return "unknown key", f"{fix} Allowed keys here: {', '.join(allowed)}" if allowed else fix
    if kind == "missing":
        return "required key is missing", f"add '{loc[-1]}:'"
    if kind == "union_tag_invalid" or kind == "union_tag_not_found":
        return (
            "unknown or missing source kind",
            "set kind: sql (SQLAlchemy URL), lake (files read by DuckDB) or a stream: "
            "kafka, kinesis or rabbitmq",
        )
    if kind == "literal_error":
        return msg.replace("Input should be", "must be"), "use one of the listed values"
    text = msg.removeprefix("Value error, ")
    return text[:1].lower() + text[1:], _fix_for_type(kind)


def _fix_for_type(kind: str) -> str:
    return {
        "int_parsing": "write a whole number",
        "int_type": "write a whole number",
        "float_parsing": "write a number",
        "bool_parsing": "write true or false",
        "bool_type": "write true or false",
        "string_type": "write a text value (quote it if it looks like a number)",
        "list_type": "write a list, e.g. [a, b] or one '- item' per line",
        "dict_type": "write a mapping of key: value lines",
        "model_type": "write a mapping of key: value lines",
        "greater_than_equal": "use a larger value",
        "less_than_equal": "use a smaller value",
        "greater_than": "use a larger value",
    }.get(kind, "see docs/configuration.md")


def _allowed_keys(loc: KeyPath, data: dict[str, Any]) -> set[str]:
    """Walk the model tree along `loc` to list the keys allowed at that point."""
    annotation: Any = ProjectConfig
    node: Any = data
    for part in loc:
        annotation = _unwrap(annotation, node)
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            field = annotation.model_fields.get(str(part))
            if field is None:
                return set()
            annotation = field.annotation
        else:
            origin, args = typing.get_origin(annotation), typing.get_args(annotation)
            if origin is dict:
                annotation = args[1]
            elif origin is list:
                annotation = args[0]
            else:
                return set()
        node = (
            node.get(part)
            if isinstance(node, dict)
            else (
                node[part] if isinstance(node, list) and isinstance(part, int) and part < len(node) else None
            )
        )
    annotation = _unwrap(annotation, node)
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return {name for name in annotation.model_fields if name != "name"}
    return set()


def _unwrap(annotation: Any, node: Any) -> Any:
    """Strip Annotated/Optional and pick the union member a mapping's `kind` selects."""
    while True:
        origin = typing.get_origin(annotation)
        if origin is typing.Annotated:
            annotation = typing.get_args(annotation)[0]
            continue
        if origin in (typing.Union, types.UnionType):
            members = [a for a in typing.get_args(annotation) if a is not type(None)]
            kinds = _kinds_of(members)
            if kinds:  # a source: the member its `kind` names (sql when it names none)
                kind = node.get("kind") if isinstance(node, dict) else None
                annotation = kinds.get(str(kind)) or kinds.get("sql") or members[0]
                continue
            annotation = members[0] if len(members) == 1 else annotation
            if len(members) != 1:
                return annotation
            continue
        return annotation


def _kinds_of(members: list[Any]) -> dict[str, Any]:
    """{kind: model} when every union member is a model with a literal `kind` (the source union)."""
    kinds: dict[str, Any] = {}
    for member in members:
        field = (
            member.model_fields.get("kind")
            if isinstance(member, type) and issubclass(member, BaseModel)
            else None
        )
        values = typing.get_args(field.annotation) if field is not None else ()
        if not values:
            return {}
        kinds.update(dict.fromkeys(values, member))
    return kinds


def _cross_check(data: dict[str, Any], merger: _Merger, config_dir: Path) -> list[ConfigIssue]:
    """Rules that span sections, checked on the raw merged data so they are reported even when other
    keys are invalid: datasets must name a known source and tier and fit their source's kind."""
    issues: list[ConfigIssue] = []

    def issue(path: KeyPath, message: str, fix: str) -> None:
        file, key, line = merger.locate(path)
        issues.append(ConfigIssue(file or config_dir, key, message, fix, line))

    sources: dict[str, Any] = _mapping(data.get("sources"), {})
    tiers: dict[str, Any] = _mapping(data.get("tiers"), {"daily": {}})
    for name, source in sources.items():
        if _has_unset_env(merger, name):
            continue  # loaded without source secrets: its URL is incomplete on purpose
        if isinstance(source, dict) and source.get("kind") == "sql" and isinstance(source.get("url"), str):
            try:
                url = make_url(source["url"])
            except ArgumentError:
                issue(
                    ("sources", name, "url"),
                    "not a valid SQLAlchemy URL",
                    "write dialect+driver://user:${PASSWORD}@host:port/database, e.g. postgresql+psycopg://...",
                )
                continue
            register_secret(url.password if isinstance(url.password, str) else None)
        if isinstance(source, dict) and source.get("kind") in STREAM_KINDS:
            _register_stream_secrets(source)
    default_tier = _default_tier(data)
    if default_tier not in tiers:
        issue(
            ("project", "default_tier"),
            f"unknown tier '{default_tier}'",
            f"define it under tiers:, or use one of: {', '.join(sorted(tiers))}",
        )
    known_sources = ", ".join(sorted(sources)) or "none defined"
    datasets: dict[str, Any] = _mapping(data.get("datasets"), {})
    for name, dataset in datasets.items():
        if not isinstance(dataset, dict):
            continue
        source_name = str(name).split(".", 1)[0]
        source = sources.get(source_name)
        if source is None:
            issue(
                ("datasets", name),
                f"unknown source '{source_name}'",
                f"define it under sources:, or name the dataset <source>.<name> with a known source ({known_sources})",
            )
        elif isinstance(source, dict) and source.get("kind") == "lake":
            if (dataset.get("format") or source.get("format")) == "iceberg":
                if not dataset.get("table"):
                    issue(
                        ("datasets", name),
                        "Iceberg datasets need a table",
                        "add table: namespace.table, as the source's iceberg_catalog names it",
                    )
            elif not dataset.get("path"):
                issue(
                    ("datasets", name),
                    "lake datasets need a path",
                    "add path: a glob relative to the source root, e.g. clickstream/**/*.parquet",
                )
            if dataset.get("table") and (dataset.get("format") or source.get("format")) != "iceberg":
                issue(
                    ("datasets", name, "table"),
                    "lake datasets are read from files, not tables",
                    "use path: instead",
                )
            if dataset.get("row_count") == "estimate":
                issue(
                    ("datasets", name, "row_count"),
                    "lake datasets always count rows from file metadata",
                    "remove row_count: estimate",
                )
        elif isinstance(source, dict) and source.get("kind") in STREAM_KINDS:
            issues.extend(_stream_issues(name, dataset, source, issue_at=merger, config_dir=config_dir))
        elif isinstance(source, dict) and dataset.get("path"):
            issue(
                ("datasets", name, "path"),
                "SQL datasets are tables, not files",
                "use table: schema.table instead",
            )
        if isinstance(source, dict) and source.get("kind") not in STREAM_KINDS:
            sla = dataset.get("sla")
            for key in _STREAM_SLA_KEYS:
                if isinstance(sla, dict) and key in sla:
                    issue(
                        ("datasets", name, "sla", key),
                        f"{key} applies to streams (kafka, kinesis, rabbitmq sources)",
                        "use warn_after/error_after for tables and files",
                    )
        issues.extend(_reconcile_issues(name, dataset, datasets, sources, merger, config_dir))
        tier = dataset.get("tier")
        if isinstance(tier, str) and tier not in tiers:
            issue(
                ("datasets", name, "tier"),
                f"unknown tier '{tier}'",
                f"define it under tiers:, or use one of: {', '.join(sorted(tiers))}",
            )
    return issues


def _default_tier(data: dict[str, Any]) -> str:
    """`project.default_tier`: the tier of every dataset that names none (default `daily`)."""
    project = data.get("project")
    value = project.get("default_tier") if isinstance(project, dict) else None
    return value if isinstance(value, str) else "daily"


def _with_default_tier(data: dict[str, Any]) -> dict[str, Any]:
    """The merged data with `tier:` filled in from `project.default_tier` where a dataset sets none."""
    datasets = data.get("datasets")
    if not isinstance(datasets, dict):
        return data
    tier = _default_tier(data)
    filled = {
        name: {**item, "tier": tier} if isinstance(item, dict) and "tier" not in item else item
        for name, item in datasets.items()
    }
    return {**data, "datasets": filled}


def _has_unset_env(merger: _Merger, source_name: str) -> bool:
    origin = merger.origins.get(("sources", source_name))
    return origin is not None and any(path[:2] == origin.path for path in origin.doc.unset)


def _register_stream_secrets(source: dict[str, Any]) -> None:
    """Passwords in a broker URL and secret-looking client settings are masked wherever they appear."""
    url = source.get("url")
    if isinstance(url, str):
        with contextlib.suppress(ArgumentError, ValueError):
            register_secret(make_url(url).password)  # type: ignore[arg-type]
    for key, value in _mapping(source.get("client_config"), {}).items():
        if isinstance(value, str) and any(
            word in str(key).lower() for word in ("password", "secret", "token")
        ):
            register_secret(value)


_STREAM_SLA_KEYS = ("max_lag", "max_messages_behind", "silent_after")
_TABLE_SLA_KEYS = ("warn_after", "error_after", "expected_by", "holidays")


def _locate_issue(merger: _Merger, config_dir: Path, path: KeyPath, message: str, fix: str) -> ConfigIssue:
    file, key, line = merger.locate(path)
    return ConfigIssue(file or config_dir, key, message, fix, line)


def _stream_issues(
    name: str, dataset: dict[str, Any], source: dict[str, Any], *, issue_at: _Merger, config_dir: Path
) -> list[ConfigIssue]:
    """A stream dataset names a topic (not a table or files) and only the SLA keys its platform can measure."""
    kind = source.get("kind")
    found: list[ConfigIssue] = []

    def issue(path: KeyPath, message: str, fix: str) -> None:
        found.append(_locate_issue(issue_at, config_dir, path, message, fix))

    for key in ("table", "path", "timestamp_column", "loaded_at_query"):
        if dataset.get(key):
            issue(
                ("datasets", name, key),
                f"{kind} datasets are read from the broker, not {key}",
                "use topic: instead",
            )
    if dataset.get("reconcile"):
        issue(
            ("datasets", name, "reconcile"),
            "a stream cannot declare reconcile",
            "declare it on the table the stream feeds, with against: " + name,
        )
    sla: dict[str, Any] = _mapping(dataset.get("sla"), {})
    for key in _TABLE_SLA_KEYS:
        if key in sla:
            issue(
                ("datasets", name, "sla", key),
                f"{key} applies to tables and files",
                "streams use max_lag, max_messages_behind and silent_after",
            )
    if kind == "kinesis" and "max_messages_behind" in sla:
        issue(
            ("datasets", name, "sla", "max_messages_behind"),
            "Kinesis does not count the records a consumer is behind (it reports milliseconds)",
            "use max_lag",
        )
    if kind == "rabbitmq" and not source.get("management_url"):
        for key in ("max_lag", "silent_after"):
            if key in sla:
                issue(
                    ("datasets", name, "sla", key),
                    "RabbitMQ reports message ages and publish counts only through its management API",
                    "set management_url on the source, or use max_messages_behind",
                )
    if kind == "rabbitmq" and dataset.get("consumer_group"):
        issue(
            ("datasets", name, "consumer_group"),
            "RabbitMQ queues have no consumer groups: the queue's depth is what its consumers have not taken",
            "remove consumer_group",
        )
    if kind in ("kafka", "kinesis") and not dataset.get("consumer_group"):
        for key in ("max_lag", "max_messages_behind"):
            if key in sla:
                issue(
                    ("datasets", name, "consumer_group"),
                    f"{key} needs the consumer whose lag it limits",
                    "add consumer_group: the Kafka consumer group or the Kinesis consumer application",
                )
                break
    return found


def _reconcile_issues(
    name: str,
    dataset: dict[str, Any],
    datasets: dict[str, Any],
    sources: dict[str, Any],
    merger: _Merger,
    config_dir: Path,
) -> list[ConfigIssue]:
    """Each `reconcile:` entry names a known dataset whose source can count a window."""
    entries = dataset.get("reconcile")
    if not isinstance(entries, list):
        return []
    found: list[ConfigIssue] = []
    for index, entry in enumerate(entries):
        if not isinstance(entry, dict) or not isinstance(entry.get("against"), str):
            continue
        against = entry["against"]
        path: KeyPath = ("datasets", name, "reconcile", index, "against")
        other = datasets.get(against)
        if against == name:
            found.append(
                _locate_issue(
                    merger, config_dir, path, "a dataset cannot reconcile with itself", "name another dataset"
                )
            )
            continue
        if other is None:
            known = ", ".join(sorted(datasets)) or "none"
            found.append(
                _locate_issue(
                    merger, config_dir, path, f"unknown dataset '{against}'", f"use one of: {known}"
                )
            )
            continue
        kind = _mapping(sources.get(against.split(".", 1)[0]), {}).get("kind")
        if kind == "rabbitmq":
            found.append(
                _locate_issue(
                    merger,
                    config_dir,
                    path,
                    "RabbitMQ cannot count the messages of a past window (delivered messages are gone)",
                    "reconcile against a Kafka topic, a Kinesis stream or a dataset",
                )
            )
        elif kind in STREAM_KINDS and (entry.get("sum") or entry.get("distinct")):
            found.append(
                _locate_issue(
                    merger,
                    config_dir,
                    ("datasets", name, "reconcile", index),
                    "a stream side is counted from offsets: sum and distinct need two datasets",
                    "remove sum/distinct, or reconcile against the dataset the stream lands in",
                )
            )
    return found


def _mapping(value: Any, default: dict[str, Any]) -> dict[str, Any]:
    return value if isinstance(value, dict) else default


def _dedupe(issues: list[ConfigIssue]) -> list[ConfigIssue]:
    seen: set[tuple[str, str, str]] = set()
    result = []
    for issue in issues:
        marker = (str(issue.file), issue.key, issue.message)
        if marker not in seen:
            seen.add(marker)
            result.append(issue)
    return result
