"""Soda's check results in our own terms (`datahealth.core.results.CheckResult`), with messages people can act on.

Soda's `is_ok` is True when checks were NOT_EVALUATED (a broken query, an ambiguous threshold), so every
outcome is mapped one by one and NOT_EVALUATED becomes an error, never a pass. Soda's error texts carry
SQL excerpts, driver prefixes and positions in the YAML; `readable_error` keeps the one line that says what
is wrong. The open-source engine returns counts only (no failing rows), so results carry counts.
"""

from __future__ import annotations

import re
from numbers import Number
from typing import Any

from datahealth.checks.contracts import USER, ContractCheck, EffectiveContract
from datahealth.core.redaction import redact
from datahealth.core.results import CheckOutcome, CheckResult

_OUTCOMES = {"PASSED": CheckOutcome.PASS, "WARN": CheckOutcome.WARN, "FAILED": CheckOutcome.FAIL}
_PREFIXES = (
    "Query execution failed, continuing with remaining checks:",
    "Could not execute aggregation query:",
    "Could not execute query:",
    "Could not execute schema query:",
)
_LOCATION = re.compile(r"(?P<file>[^\s()\[\]]+\.ya?ml)\[(?P<line>\d+),(?P<col>\d+)\]")
_BINDER_COLUMN = re.compile(r'Referenced column "(?P<col>[^"]+)" not found', re.IGNORECASE)
_PG_COLUMN = re.compile(r'column "(?P<col>[^"]+)" does not exist', re.IGNORECASE)
_MISSING_TABLE = re.compile(
    r'(Table with name (?P<duck>\S+) does not exist|relation "(?P<pg>[^"]+)" does not exist)'
)


def map_check_results(
    contract: EffectiveContract, soda_results: list[Any], errors: list[str], warnings: list[str]
) -> list[CheckResult]:
    """One CheckResult per Soda check result; checks Soda never reported become errors too."""
    reason = _not_evaluated_reason(contract, errors, warnings)
    mapped: list[CheckResult] = []
    seen: set[str] = set()
    for soda in soda_results:
        path = str(soda.check.relative_path)
        seen.add(path)
        planned = contract.check_at(path)
        mapped.append(_map_one(contract, soda, planned, reason))
    for planned in contract.checks:
        if planned.path not in seen:
            mapped.append(planned_error(contract, planned, f"not evaluated: {reason}"))
    return mapped


def _map_one(
    contract: EffectiveContract, soda: Any, planned: ContractCheck | None, reason: str
) -> CheckResult:
    check = soda.check
    column = check.column_name
    qualifier = check.qualifier
    origin = planned.origin if planned else USER
    name = (
        planned.name
        if planned
        else ContractCheck(check.relative_path, check.type, column, qualifier, USER).name
    )
    diagnostics = {k: _plain(v) for k, v in (soda.diagnostic_metric_values or {}).items()}
    outcome = _OUTCOMES.get(soda.outcome.name, CheckOutcome.ERROR)
    details: dict[str, Any] = {
        "soda_path": check.relative_path,
        "diagnostics": diagnostics,
        "contract": contract.display_path,
    }
    if planned and planned.switch:
        details["switch"] = planned.switch
    if check.name:
        details["soda_name"] = check.name
    if check.type == "schema":
        details.update(_schema_details(soda))
    if _unit(soda):  # what the observed value counts (freshness: hours unless the contract says otherwise)
        details["unit"] = _unit(soda)
    if outcome == CheckOutcome.ERROR:
        message = f"not evaluated: {reason}"
        observed = None
    else:
        observed = _number(soda.threshold_value)
        message = describe(check.type, column, observed, diagnostics, details, soda)
    return CheckResult(
        dataset=contract.dataset,
        name=name,
        check_type=check.type,
        outcome=outcome,
        column=column,
        observed_value=observed,
        threshold=threshold_text(check.threshold, check.warn_threshold, _unit(soda)),
        origin=origin,
        message=redact(message),
        details=details,
    )


def describe(
    check_type: str,
    column: str | None,
    observed: float | None,
    diagnostics: dict[str, Any],
    details: dict[str, Any],
    soda: Any,
) -> str:
    """What the check saw, in a sentence (the threshold is reported separately)."""
    where = f" in {column}" if column else ""
    rows = diagnostics.get("check_rows_tested")
    of_rows = f" of {rows:,} rows" if isinstance(rows, int) else " of rows"
    if check_type in ("missing", "invalid", "duplicate"):
        count = diagnostics.get(f"{check_type}_count", observed)
        percent = diagnostics.get(f"{check_type}_percent")
        share = f" ({percent:.2f}%{of_rows})" if isinstance(percent, int | float) else ""
        noun = {"missing": "missing", "invalid": "invalid", "duplicate": "duplicate"}[check_type]
        target = where if column else " over the key columns" if check_type == "duplicate" else ""
        return f"{_count(count)} {noun} values{target}{share}"
    if check_type == "row_count":
        return f"{_count(observed)} rows"
    if check_type == "schema":
        return schema_message(details)
    if check_type == "freshness":
        newest = getattr(soda, "max_timestamp", None)
        unit = _unit(soda) or "hour"
        if newest is None:
            return "no rows with a timestamp: freshness unknown"
        return f"newest value{where} {newest:%Y-%m-%d %H:%M}, {_fmt(observed)} {unit}s before the run's as-of time"
    if check_type == "failed_rows":
        return f"{_count(diagnostics.get('failed_rows_count', observed))} failed rows"
    if check_type == "aggregate":
        function = next(
            (k for k in diagnostics if k not in ("check_rows_tested", "dataset_rows_tested")), "value"
        )
        return f"{function}{where} is {_fmt(observed)}"
    name = getattr(getattr(soda, "check", None), "qualifier", None) or check_type
    return f"{name} is {_fmt(observed)}"


def schema_message(details: dict[str, Any]) -> str:
    parts = []
    if details.get("added"):
        parts.append("added: " + ", ".join(details["added"]))
    if details.get("removed"):
        parts.append("removed: " + ", ".join(details["removed"]))
    if details.get("retyped"):
        parts.append(
            "type changed: "
            + ", ".join(f"{r['column']} {r['expected']} -> {r['actual']}" for r in details["retyped"])
        )
    if details.get("out_of_order"):
        parts.append("columns out of order")
    return "; ".join(parts) if parts else "schema as expected"


def _schema_details(soda: Any) -> dict[str, Any]:
    mismatches = getattr(soda, "column_data_type_mismatches", None) or []
    return {
        "added": list(getattr(soda, "actual_column_names_not_expected", None) or []),
        "removed": list(getattr(soda, "expected_column_names_not_actual", None) or []),
        "retyped": [
            {"column": m.column, "expected": m.get_expected(), "actual": m.get_actual()} for m in mismatches
        ],
        "out_of_order": bool(getattr(soda, "are_columns_out_of_order", False)),
    }


def threshold_text(threshold: Any, warn_threshold: Any = None, unit: str | None = None) -> str | None:
    """Soda's Threshold as `between 10 and 20`, `> 0`, `= 0`, `< 24 hours` (warn-level ones say so)."""
    if threshold is None and warn_threshold is None:
        return None
    texts = []
    for item in (threshold, warn_threshold):
        if item is None:
            continue
        text = _comparison(item)
        if text and unit:
            text = f"{text} {unit}s"
        if text and getattr(item, "level", "fail") == "warn":
            text = f"{text} (else warn)"
        if text:
            texts.append(text)
    return "; ".join(texts) or None


def _comparison(t: Any) -> str:
    low = (
        (">=", t.must_be_greater_than_or_equal)
        if t.must_be_greater_than_or_equal is not None
        else ((">", t.must_be_greater_than) if t.must_be_greater_than is not None else None)
    )
    high = (
        ("<=", t.must_be_less_than_or_equal)
        if t.must_be_less_than_or_equal is not None
        else (("<", t.must_be_less_than) if t.must_be_less_than is not None else None)
    )
    parts = []
    if t.must_be is not None:
        parts.append(f"= {_fmt(t.must_be)}")
    if t.must_not_be is not None:
        parts.append(f"!= {_fmt(t.must_not_be)}")
    if low and high:
        if low[1] > high[1]:  # must_be_not_between
            parts.append(f"{high[0]} {_fmt(high[1])} or {low[0]} {_fmt(low[1])}")
        elif low[0] == ">=" and high[0] == "<=":
            parts.append(f"between {_fmt(low[1])} and {_fmt(high[1])}")
        else:
            parts.append(f"{low[0]} {_fmt(low[1])} and {high[0]} {_fmt(high[1])}")
    elif low:
        parts.append(f"{low[0]} {_fmt(low[1])}")
    elif high:
        parts.append(f"{high[0]} {_fmt(high[1])}")
    return " and ".join(parts)


def readable_error(text: str, contract: EffectiveContract | None = None) -> str:
    """The line of a Soda/driver error that says what is wrong, without SQL excerpts or secrets."""
    message = text.strip()
    for _ in range(3):
        for prefix in _PREFIXES:
            if message.startswith(prefix):
                message = message[len(prefix) :].strip()
    message = message.splitlines()[0].strip() if message else "unknown Soda error"
    column = _BINDER_COLUMN.search(message) or _PG_COLUMN.search(message)
    table = _MISSING_TABLE.search(message)
    dataset = contract.dataset if contract else "the dataset"
    if column:
        message = f'column "{column["col"]}" does not exist in {dataset} ({_strip_engine(message)})'
    elif table:
        message = f"table {table['duck'] or table['pg']} does not exist ({_strip_engine(message)})"
    if contract is not None and _LOCATION.search(message):
        message = _LOCATION.sub(lambda m: f"line {m['line']}", message)
        message += f" (lines of `datahealth checks show {contract.dataset}`)"
    return redact(message)


def _strip_engine(message: str) -> str:
    return message.split("!", 1)[0].strip()


def _not_evaluated_reason(contract: EffectiveContract, errors: list[str], warnings: list[str]) -> str:
    for text in errors:
        return readable_error(text, contract)
    for text in warnings:
        if "not evaluated" in text.lower() or "threshold" in text.lower():
            return readable_error(text, contract)
    return "Soda did not evaluate the check (no error reported)"


def error_result(
    dataset: str,
    message: str,
    *,
    name: str = "contract",
    check_type: str = "contract",
    column: str | None = None,
    origin: str = USER,
    details: dict[str, Any] | None = None,
    outcome: CheckOutcome = CheckOutcome.ERROR,
) -> CheckResult:
    """A check that could not run (or a contract problem) as a result, so the run goes on and says so."""
    return CheckResult(
        dataset=dataset,
        name=name,
        check_type=check_type,
        outcome=outcome,
        column=column,
        origin=origin,
        message=redact(message),
        details=details or {},
    )


def planned_error(contract: EffectiveContract, planned: ContractCheck, message: str) -> CheckResult:
    """An error result for a check of the contract that did not (or could not) run."""
    details: dict[str, Any] = {"soda_path": planned.path, "contract": contract.display_path}
    if planned.switch:
        details["switch"] = planned.switch
    return error_result(
        contract.dataset,
        message,
        name=planned.name,
        check_type=planned.check_type,
        column=planned.column,
        origin=planned.origin,
        details=details,
    )


def _unit(soda: Any) -> str | None:
    unit = getattr(soda, "unit", None)
    return str(unit) if unit else None


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, Number):
        return None
    return float(value)  # type: ignore[arg-type]


def _plain(value: Any) -> Any:
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, Number):
        return float(value)  # type: ignore[arg-type]
    return str(value)


def _count(value: Any) -> str:
    return f"{int(value):,}" if isinstance(value, int | float) else "?"


def _fmt(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return f"{int(value):,}"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        return f"{value:,.4g}" if abs(value) < 1e6 else f"{value:,.0f}"
    return str(value)
