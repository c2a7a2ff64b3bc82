"""BigQuery's stand-in for tests: the product's bqemulator launcher, on the stand-ins `make standins` built."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from datahealth.demo.standins import bqemulator
from datahealth.demo.standins.bqemulator import BigQueryEmulator
from tests.support.standins import STANDINS

__all__ = ["BigQueryEmulator", "bigquery_emulator"]


@contextmanager
def bigquery_emulator(log_dir: Path) -> Iterator[BigQueryEmulator]:
    with bqemulator.bigquery_emulator(STANDINS, log_dir) as emulator:
        yield emulator
