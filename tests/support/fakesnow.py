"""Snowflake's stand-in for tests: the product's fakesnow launcher, on the stand-ins `make standins` built."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from datahealth.demo.standins import fakesnow
from datahealth.demo.standins.fakesnow import FakesnowServer
from tests.support.standins import STANDINS

__all__ = ["FakesnowServer", "fakesnow_server"]


@contextmanager
def fakesnow_server(log_dir: Path) -> Iterator[FakesnowServer]:
    with fakesnow.fakesnow_server(STANDINS, log_dir) as server:
        yield server
