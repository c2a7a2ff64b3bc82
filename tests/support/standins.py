"""Where the tests find the stand-ins' virtualenvs (`make standins`): the product's launchers start them."""

from __future__ import annotations

import os
from pathlib import Path

from datahealth.demo.standins.process import STANDINS_ENV

REPO_ROOT = Path(__file__).resolve().parents[2]
STANDINS = Path(os.environ.get(STANDINS_ENV, REPO_ROOT / ".cache" / "standins"))
