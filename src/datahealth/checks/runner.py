"""Runs a dataset's effective contract as ONE Soda scan and returns our `CheckResult`s; never raises for data.

Order of work, cheapest first: derive the Soda target from config, read the two history baselines, merge
the contract, drop checks on columns the catalog says do not exist (so one typo does not leave every
check unevaluated), then scan. If Soda rejects the merged contract as a whole (unknown check type,
duplicate check identity), the generated checks run alone in a second scan so a broken user file never
switches off the primary-key, required-column and schema protections. (A scan that fails at run time, e.g.
an unreachable database, is told apart by validating the contract without queries.)
"""

from __future__ import annotations

import contextvars
import logging
import time
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from datahealth.checks import native
from datahealth.checks.baselines import HistoryBaselines, load_baselines
from datahealth.checks.contracts import GENERATED, USER, EffectiveContract, build_contract
from datahealth.checks.data_sources import ChecksNotSupported, open_data_source, soda_target
from datahealth.checks.results import error_result, map_check_results, planned_error, readable_error
from datahealth.checks.soda_env import prepare_soda
from datahealth.config.models import DatasetConfig, Project
from datahealth.core.redaction import redact
from datahealth.core.results import CheckOutcome, CheckResult, DatasetResult, ErrorKind, TableMeta
from datahealth.engines.errors import error_kind
from datahealth.sources.base import DatasetError, Source
from datahealth.sources.sql import SqlSource
from datahealth.store import HistoryStore

logger = logging.getLogger(__name__)


@dataclass
class ScanOutcome:
    """What one Soda scan returned: its check results plus the errors and warnings it logged."""

    results: list[Any] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    seconds: float = 0.0


def run_checks(
    project: Project,
    dataset: DatasetConfig,
    source: Source,
    as_of: datetime,
    *,
    store: HistoryStore | None = None,
    meta: TableMeta | None = None,
) -> list[CheckResult]:
    """The dataset's check results for this run (user + generated), errors included as results."""
    baselines = load_baselines(store, dataset, as_of)
    try:
        target = soda_target(project, dataset)
    except ChecksNotSupported as exc:
        if native.applies(source):  # no Soda plugin: datahealth computes the generated checks itself
            assert isinstance(source, SqlSource)
            return native.run_native_checks(project, dataset, source, meta, baselines)
        return unsupported_results(project, dataset, str(exc), baselines)
    contract = build_contract(project, dataset, target, baselines)
    results = contract_results(contract)
    if meta is not None and meta.columns:
        results.extend(_missing_column_results(contract, meta))
    if not contract.checks:
        return results
    scan = scan_contract(contract, source, dataset, as_of)
    rejected = validate_contract(contract) if not scan.results and scan.errors else []
    user_part = _has(contract, USER) or contract.user_file_exists  # its top-level keys alone can be rejected
    if rejected and user_part and _has(contract, GENERATED):
        results = [r for r in results if r.name != "contract"]  # the rejection outranks a warning
        results.append(
            error_result(dataset.name, f"{contract.display_path}: {readable_error(rejected[0], contract)}")
        )
        fallback = build_contract(project, dataset, target, baselines, include_user=False)
        if meta is not None and meta.columns:
            _missing_column_results(fallback, meta)  # already reported above
        scan = scan_contract(fallback, source, dataset, as_of)
        return results + map_check_results(fallback, scan.results, scan.errors, scan.warnings)
    return results + map_check_results(contract, scan.results, scan.errors, scan.warnings)


def checks_stage(
    project: Project,
    dataset: DatasetConfig,
    source: Source,
    meta: TableMeta,
    as_of: datetime,
    store: HistoryStore | None,
    result: DatasetResult,
) -> None:
    """The runner's checks stage: results onto `result`; an unexpected failure becomes a stage error.

    A connection lost during the scan is the source being unreachable, as it would be during observe:
    the dataset gets one `unreachable` error instead of one "not evaluated" error per check.
    """
    try:
        checks = run_checks(project, dataset, source, as_of, store=store, meta=meta)
        lost = _connection_lost(checks, source)
        if lost is None:
            result.checks.extend(checks)
            return
        message = redact(f"lost the connection to {dataset.source} during checks: {lost}")
        logger.warning("%s: %s", dataset.name, message)
        result.stage_errors["checks"] = message
        result.observation = replace(result.observation, error=message, error_kind=ErrorKind.UNREACHABLE)
    except Exception as exc:  # a Soda or driver bug must not take the dataset (or the run) down
        message = redact(
            f"checks failed: {type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"
        )
        logger.warning("%s: %s", dataset.name, message)
        result.stage_errors["checks"] = message
        result.checks.append(error_result(dataset.name, message, name="checks", check_type="checks"))


def _connection_lost(checks: list[CheckResult], source: Source) -> str | None:
    """The reason of the first check that errored because the source went away, or None."""
    hints = getattr(getattr(source, "backend", None), "error_hints", None)
    for check in checks:
        if check.outcome == CheckOutcome.ERROR and error_kind(check.message, hints) == ErrorKind.UNREACHABLE:
            return check.message.removeprefix("not evaluated: ")
    return None


def scan_contract(
    contract: EffectiveContract, source: Source, dataset: DatasetConfig, as_of: datetime
) -> ScanOutcome:
    """Verify the effective contract with Soda (one scan: metadata query if a schema check, one aggregate query)."""

    prepare_soda()
    from soda_core.common.exceptions import SodaCoreException
    from soda_core.common.yaml import ContractYamlSource
    from soda_core.contracts.contract_verification import ContractVerificationSession

    started = time.perf_counter()
    outcome = ScanOutcome()
    try:
        with open_data_source(source, dataset, contract.target) as data_source:
            # Soda keeps its active log collector in a ContextVar; a copied context leaves none behind
            # in this worker thread to capture unrelated records after the scan.
            session = contextvars.copy_context().run(
                ContractVerificationSession.execute,
                contract_yaml_sources=[
                    ContractYamlSource.from_str(contract.to_yaml(), file_path=contract.display_path)
                ],
                data_source_impls=[data_source],
                data_timestamp=as_of.isoformat(),
            )
    except DatasetError as exc:
        outcome.errors.append(str(exc))
    except (SodaCoreException, ValueError) as exc:  # Soda raises for contracts it cannot parse at all
        outcome.errors.append(str(exc))
    except (AttributeError, TypeError, KeyError, IndexError) as exc:
        # Soda's parser assumes well-formed sections (e.g. `variables: {x: true}` reaches an attribute
        # lookup on a bool); treat such a crash as the contract being rejected, not as a dataset failure.
        outcome.errors.append(f"the contract could not be read ({type(exc).__name__}: {exc})")
    else:
        outcome.errors.extend(session.get_errors())
        for verification in session.contract_verification_results:
            outcome.results.extend(verification.check_results)
            outcome.warnings.extend(verification.get_warnings())
    outcome.seconds = time.perf_counter() - started
    return outcome


def validate_contract(contract: EffectiveContract) -> list[str]:
    """Soda's objections to the contract itself (no queries): tells a rejected contract from a failed scan."""
    from soda_core.common.exceptions import SodaCoreException
    from soda_core.common.yaml import ContractYamlSource
    from soda_core.contracts.contract_verification import ContractVerificationSession

    try:
        session = contextvars.copy_context().run(
            ContractVerificationSession.execute,
            contract_yaml_sources=[
                ContractYamlSource.from_str(contract.to_yaml(), file_path=contract.display_path)
            ],
            only_validate_without_execute=True,
        )
    except (SodaCoreException, ValueError) as exc:
        return [str(exc)]
    except (AttributeError, TypeError, KeyError, IndexError) as exc:  # see scan_contract
        return [f"the contract could not be read ({type(exc).__name__}: {exc})"]
    return list(session.get_errors())


def contract_results(contract: EffectiveContract) -> list[CheckResult]:
    """An invalid user file is an error; ignored keys or Soda's config warnings are a warning."""
    if contract.user_error:
        return [
            error_result(contract.dataset, contract.user_error, details={"contract": contract.display_path})
        ]
    if contract.warnings:
        return [
            error_result(
                contract.dataset,
                "; ".join(contract.warnings),
                outcome=CheckOutcome.WARN,
                details={"contract": contract.display_path},
            )
        ]
    return []


def _missing_column_results(contract: EffectiveContract, meta: TableMeta) -> list[CheckResult]:
    existing = {c.name for c in meta.columns}
    lowered = {c.lower() for c in existing}
    named = {c.column for c in contract.checks if c.column}
    missing = {c for c in named if c not in existing and c.lower() not in lowered}
    results = []
    for check in contract.without_columns(missing):
        what = "required column" if check.switch == "required_columns_missing" else "column"
        where = "sla_config" if check.origin == GENERATED else contract.display_path
        message = f"{what} '{check.column}' named in {where} does not exist in {contract.dataset}"
        results.append(planned_error(contract, check, message))
    return results


def unsupported_results(
    project: Project, dataset: DatasetConfig, reason: str, baselines: HistoryBaselines
) -> list[CheckResult]:
    """A contract the source cannot run is an error; generated checks alone that cannot run are a warning."""
    if project.checks_file(dataset).is_file():
        return [error_result(dataset.name, f"{reason}; {project.checks_file(dataset).name} is not run")]
    switches = dataset.checks
    generated = (
        (switches.primary_key_duplicates and dataset.primary_key)
        or (switches.required_columns_missing and dataset.required_columns)
        or (switches.schema_check and baselines.accepted_columns)
        or (switches.row_count_bounds and baselines.row_count_bounds)
    )
    if not generated:
        return []
    return [
        error_result(
            dataset.name,
            f"{reason}; generated checks skipped (switch them off under "
            f"datasets.{dataset.name}.checks to silence this)",
            outcome=CheckOutcome.WARN,
        )
    ]


def _has(contract: EffectiveContract, origin: str) -> bool:
    return any(c.origin == origin for c in contract.checks)
