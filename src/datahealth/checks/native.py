"""Generated checks computed by datahealth itself, where soda-core has no data source (MySQL/MariaDB, SQLite).

The same protections Soda runs elsewhere: `duplicate` on the primary key, `missing` on each required
column, `row_count` within the bounds learned from history, and `schema` against the accepted snapshot.
Everything but the schema comes from ONE aggregate statement over the table (the schema is compared with
the catalog entry the run already read), and the results have the shape Soda's have after mapping
(`checks/results.py`): the same names (`id.duplicate`, `email.missing`, `row_count`, `schema`), the same
thresholds, observed values, diagnostics and messages, so reports, incidents and alerts cannot tell them
apart except by `details.engine = "datahealth"`.

A user contract (`checks/<source>/<dataset>.yml`) cannot run on such an engine: it is an error naming what
does run there (and `datahealth validate` reports it before any run).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.sql.elements import ColumnElement, quoted_name

from datahealth import engines
from datahealth.checks.baselines import HistoryBaselines
from datahealth.checks.contracts import GENERATED, USER, ContractCheck
from datahealth.checks.results import describe, error_result, schema_message
from datahealth.config.models import DatasetConfig, Project, SqlSourceConfig
from datahealth.core.results import CheckOutcome, CheckResult, TableMeta
from datahealth.engines.errors import classify
from datahealth.rules.schema_diff import diff_columns
from datahealth.sources.base import DatasetError, Source
from datahealth.sources.sql import SqlSource, resolve_url

ENGINE = "datahealth"
SUPPORTED = "primary-key duplicates, required-column missing values, row-count bounds and the accepted schema"


@dataclass(frozen=True)
class _Planned:
    """One generated check and the labels of the aggregates it reads from the statement's row."""

    check: ContractCheck
    labels: tuple[str, ...] = ()


def applies(source: Source) -> bool:
    """Whether `source` is a SQL source whose engine has no Soda plugin (its checks are computed here)."""
    return isinstance(source, SqlSource) and not source.backend.capabilities.soda_plugin


def contract_error(project: Project, dataset: DatasetConfig, engine_title: str) -> str:
    """Why the user's contract of `dataset` does not run, and what does."""
    path = project.checks_file(dataset).relative_to(project.root)
    plugins = ", ".join(e.title for e in engines.with_checks())
    return (
        f"{path} is not run: {engine_title} has no Soda data source, so contracts cannot run on "
        f"{dataset.source}; datahealth computes the generated checks there itself ({SUPPORTED}). "
        f"Configure them under datasets.{dataset.name} (primary_key, required_columns, checks:), or keep "
        f"contracts for sources on {plugins} or a lake"
    )


def contract_issues(project: Project) -> list[str]:
    """Every user contract of the project that cannot run (for `datahealth validate`), one line each."""
    issues = []
    for dataset in project.datasets:
        config = project.config.sources.get(dataset.source)
        if not isinstance(config, SqlSourceConfig) or not project.checks_file(dataset).is_file():
            continue
        engine = engines.for_url(resolve_url(config.url, project.root))
        if not engine.capabilities.soda_plugin:
            issues.append(contract_error(project, dataset, engine.title))
    return issues


def run_native_checks(
    project: Project,
    dataset: DatasetConfig,
    source: SqlSource,
    meta: TableMeta | None,
    baselines: HistoryBaselines,
) -> list[CheckResult]:
    """The dataset's generated checks from one statement, plus an error for a user contract that cannot run."""
    results: list[CheckResult] = []
    if project.checks_file(dataset).is_file():
        results.append(
            error_result(
                dataset.name,
                contract_error(project, dataset, source.backend.title),
                details={"contract": str(project.checks_file(dataset).relative_to(project.root))},
            )
        )
    columns = {c.name for c in meta.columns} if meta is not None and meta.columns else None
    planned, selected = _plan(dataset, source, baselines, columns, results)
    if selected:
        try:
            row = _aggregate_row(source, dataset, selected)
        except DatasetError as exc:
            return results + [_error(dataset, p.check, f"not evaluated: {exc}") for p in planned]
        results.extend(_result(dataset, p, row, baselines) for p in planned)
    if dataset.checks.schema_check and baselines.accepted_columns is not None and meta is not None:
        results.append(_schema_result(dataset, baselines, meta))
    return results


def _plan(
    dataset: DatasetConfig,
    source: SqlSource,
    baselines: HistoryBaselines,
    columns: set[str] | None,
    results: list[CheckResult],
) -> tuple[list[_Planned], list[tuple[str, Any]]]:
    """The checks to compute and the labelled aggregates of the one statement that computes them."""
    switches = dataset.checks
    planned: list[_Planned] = []
    selected: list[tuple[str, Any]] = [("n", sa.func.count())]

    def known(column: str, switch: str, check: str) -> bool:
        if columns is None or column in columns:
            return True
        what = "required column" if switch == "required_columns_missing" else "column"
        message = f"{what} '{column}' named in sla_config does not exist in {dataset.name}"
        results.append(_error(dataset, ContractCheck("", check, column, None, GENERATED, switch), message))
        return False

    key = dataset.primary_key
    if (
        switches.primary_key_duplicates
        and key
        and all(known(c, "primary_key_duplicates", "duplicate") for c in key)
    ):
        index = len(selected)
        selected += _duplicate_aggregates(source, dataset, key, index)
        column = key[0] if len(key) == 1 else None
        path = f"columns.{column}.checks.duplicate" if column else "checks.duplicate"
        check = ContractCheck(path, "duplicate", column, None, GENERATED, "primary_key_duplicates")
        planned.append(_Planned(check, (f"a{index}", f"a{index + 1}")))
    if switches.required_columns_missing:
        for column in dataset.required_columns:
            if not known(column, "required_columns_missing", "missing"):
                continue
            label = f"a{len(selected)}"
            selected.append((label, sa.func.count() - sa.func.count(_column(source, column))))
            check = ContractCheck(
                f"columns.{column}.checks.missing",
                "missing",
                column,
                None,
                GENERATED,
                "required_columns_missing",
            )
            planned.append(_Planned(check, (label,)))
    if switches.row_count_bounds and baselines.row_count_bounds is not None:
        planned.append(
            _Planned(
                ContractCheck("checks.row_count", "row_count", None, None, GENERATED, "row_count_bounds")
            )
        )
    return planned, selected if planned else []


def _duplicate_aggregates(
    source: SqlSource, dataset: DatasetConfig, key: list[str], index: int
) -> list[tuple[str, Any]]:
    """Rows with the whole key present, and distinct keys among them (`duplicate_count` = the difference).

    A key of several columns counts its distinct values in a scalar subquery of the same statement
    (`COUNT(DISTINCT a, b)` is not portable).
    """
    refs = [_column(source, c) for c in key]
    present = sa.and_(*(r.isnot(None) for r in refs))
    tested = sa.func.count(sa.case((present, sa.literal_column("1"))))
    if len(refs) == 1:
        return [(f"a{index}", tested), (f"a{index + 1}", sa.func.count(refs[0].distinct()))]
    keys = sa.select(*refs).select_from(source.table_clause(dataset)).distinct().where(present)
    distinct_count = sa.select(sa.func.count()).select_from(keys.subquery("key_values")).scalar_subquery()
    return [(f"a{index}", tested), (f"a{index + 1}", distinct_count)]


def _column(source: SqlSource, name: str) -> ColumnElement[Any]:
    return sa.column(quoted_name(source.backend.denormalize_name(name), quote=True))


def _aggregate_row(
    source: SqlSource, dataset: DatasetConfig, selected: list[tuple[str, Any]]
) -> dict[str, Any]:
    table = source.table_clause(dataset)
    statement = sa.select(*(expr.label(label) for label, expr in selected)).select_from(table)
    try:
        with source.engine.connect() as conn:
            return dict(conn.execute(statement).mappings().one())
    except sa.exc.DBAPIError as exc:
        raise classify(exc, f"checking {dataset.name} failed", source.backend.error_hints) from None


def _result(
    dataset: DatasetConfig, planned: _Planned, row: dict[str, Any], baselines: HistoryBaselines
) -> CheckResult:
    check = planned.check
    rows = int(row["n"] or 0)
    details: dict[str, Any] = {"engine": ENGINE, "soda_path": check.path, "switch": check.switch}
    if check.check_type == "row_count":
        bounds = baselines.row_count_bounds
        assert bounds is not None
        outcome = CheckOutcome.PASS if bounds.lower <= rows <= bounds.upper else CheckOutcome.FAIL
        diagnostics: dict[str, Any] = {"check_rows_tested": rows}
        details["diagnostics"] = diagnostics
        return _checked(
            dataset,
            check,
            outcome,
            rows,
            f"between {bounds.lower:,} and {bounds.upper:,}",
            diagnostics,
            details,
        )
    if check.check_type == "missing":
        count = int(row[planned.labels[0]] or 0)
        tested = rows
    else:
        tested = int(row[planned.labels[0]] or 0)
        count = tested - int(row[planned.labels[1]] or 0)
    diagnostics = {
        f"{check.check_type}_count": count,
        f"{check.check_type}_percent": round(100.0 * count / tested, 4) if tested else 0.0,
        "check_rows_tested": tested,
    }
    details["diagnostics"] = diagnostics
    outcome = CheckOutcome.PASS if count == 0 else CheckOutcome.FAIL
    return _checked(dataset, check, outcome, count, "= 0", diagnostics, details)


def _checked(
    dataset: DatasetConfig,
    check: ContractCheck,
    outcome: CheckOutcome,
    observed: float,
    threshold: str,
    diagnostics: dict[str, Any],
    details: dict[str, Any],
) -> CheckResult:
    return CheckResult(
        dataset=dataset.name,
        name=check.name,
        check_type=check.check_type,
        outcome=outcome,
        column=check.column,
        observed_value=float(observed),
        threshold=threshold,
        origin=GENERATED,
        message=describe(check.check_type, check.column, float(observed), diagnostics, details, None),
        details=details,
    )


def _schema_result(dataset: DatasetConfig, baselines: HistoryBaselines, meta: TableMeta) -> CheckResult:
    accepted = baselines.accepted_columns or ()
    changes = diff_columns(accepted, meta.columns)
    details: dict[str, Any] = {
        "engine": ENGINE,
        "soda_path": "checks.schema",
        "switch": "schema",
        "added": [c.column for c in changes if c.kind == "column_added"],
        "removed": [c.column for c in changes if c.kind == "column_removed"],
        "retyped": [
            {"column": c.column, "expected": c.before, "actual": c.after}
            for c in changes
            if c.kind == "type_changed"
        ],
        "out_of_order": False,
    }
    events = len(details["added"]) + len(details["removed"]) + len(details["retyped"])
    details["diagnostics"] = {"schema_events_count": events}
    return CheckResult(
        dataset=dataset.name,
        name="schema",
        check_type="schema",
        outcome=CheckOutcome.PASS if events == 0 else CheckOutcome.FAIL,
        observed_value=float(events),
        threshold="= 0",
        origin=GENERATED,
        message=schema_message(details),
        details=details,
    )


def _error(dataset: DatasetConfig, check: ContractCheck, message: str) -> CheckResult:
    details: dict[str, Any] = {"engine": ENGINE, "switch": check.switch}
    if check.path:
        details["soda_path"] = check.path
    return error_result(
        dataset.name,
        message,
        name=check.name,
        check_type=check.check_type,
        column=check.column,
        origin=check.origin if check.origin else USER,
        details=details,
    )
