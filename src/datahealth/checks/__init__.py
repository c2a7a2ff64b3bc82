"""Soda checks: user contracts in `checks/<source>/<dataset>.yml` merged with checks generated from history.

`run_checks` runs a dataset's effective contract as one Soda scan and returns `CheckResult`s;
`build_contract` is what `datahealth checks show` prints. Soda itself is imported lazily (it costs about a
second), so importing this package is cheap.
"""

from datahealth.checks.contracts import EffectiveContract, build_contract
from datahealth.checks.runner import checks_stage, run_checks

__all__ = ["EffectiveContract", "build_contract", "checks_stage", "run_checks"]
